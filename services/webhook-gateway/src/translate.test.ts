import { describe, expect, it } from 'vitest';
import examples from '@octokit/webhooks-examples/api.github.com/index.json' with { type: 'json' };
import { WorkflowJobStatus } from '@runnerhub/contracts';
import { translate } from './translate.js';

type Example = { name: string; examples: Array<Record<string, unknown>> };
const byName = (n: string) => (examples as unknown as Example[]).find((e) => e.name === n)!.examples;
const meta = (event: string) => ({ guid: 'g-1', event, hookId: '123', receivedAt: new Date('2026-01-01T00:00:00Z'), raw: Buffer.from('{}') });

describe('translate', () => {
  it.each(byName('workflow_job').map((e, i) => [i, e.action, e] as const))('types workflow_job example %i (%s)', (_i, action, payload) => {
    const t = translate(meta('workflow_job'), payload);
    expect(t.kind).toBe('publish');
    if (t.kind !== 'publish' || !t.subject.startsWith('gh.workflow_job.')) throw new Error('expected a workflow_job message');
    const job = (payload as { workflow_job: { id: number; labels: string[]; status: string } }).workflow_job;
    expect(t.subject).toBe(`gh.workflow_job.${String(action)}`);
    const m = t.message as { jobId: bigint; labels: string[]; status: WorkflowJobStatus; delivery: { deliveryId: string } };
    expect(m.jobId).toBe(BigInt(job.id));
    expect(m.labels).toEqual(job.labels);
    expect(m.status).not.toBe(WorkflowJobStatus.UNSPECIFIED);
    expect(m.delivery.deliveryId).toBe('g-1');
  });

  it('types ping, installation and workflow_run, and ignores events nobody consumes', () => {
    expect(translate(meta('ping'), byName('ping')[0])).toMatchObject({ kind: 'publish', subject: 'gh.ping.none' });
    expect(translate(meta('installation'), byName('installation')[0])).toMatchObject({ kind: 'publish', subject: expect.stringMatching(/^gh\.installation\./) });
    expect(translate(meta('workflow_run'), byName('workflow_run')[0])).toMatchObject({ kind: 'publish', subject: expect.stringMatching(/^gh\.workflow_run\./) });
    expect(translate(meta('push'), byName('push')[0])).toMatchObject({ kind: 'ignored' });
  });

  it('refuses payloads it cannot route', () => {
    expect(translate(meta('workflow_job'), [])).toMatchObject({ kind: 'invalid' });
    expect(translate(meta('workflow_job'), { action: 'queued' })).toMatchObject({ kind: 'invalid' });
    expect(translate(meta('workflow_job'), { action: 'que.ued', workflow_job: { id: 1 } })).toMatchObject({ kind: 'invalid' });
  });
});
