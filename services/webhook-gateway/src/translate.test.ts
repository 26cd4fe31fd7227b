import { describe, expect, it } from 'vitest';
import examples from '@octokit/webhooks-examples/api.github.com/index.json' with { type: 'json' };
import fc from 'fast-check';
import { contractsCodec, WorkflowJobStatus } from '@runnerhub/contracts';
import { MAX_LABELS, MAX_RUN_ATTEMPT, MAX_TEXT, MAX_URL } from './fields.js';
import { translate } from './translate.js';
import { exampleDeliveries, oddDelivery, setAt, type Path } from '../test/odd-fields.js';

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

const LONE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** What the consumers' stores take: text without NUL, valid UTF-16, bounded; int64 ids; run_attempt in a Postgres integer. */
function expectStorable(value: unknown, at = 'message'): void {
  if (typeof value === 'string') {
    expect(value.includes('\u0000'), `${at} holds NUL`).toBe(false);
    expect(LONE.test(value), `${at} holds an unpaired surrogate`).toBe(false);
    expect(value.length, `${at} is too long`).toBeLessThanOrEqual(MAX_URL);
  } else if (typeof value === 'bigint') {
    expect(value >= 0n && value < 2n ** 63n, `${at} = ${value} is no int64 id`).toBe(true);
  } else if (value instanceof Uint8Array) {
    // The raw payload: bytes, stored as they came.
  } else if (Array.isArray(value)) {
    expect(value.length, `${at} has too many items`).toBeLessThanOrEqual(at.endsWith('labels') ? MAX_LABELS : 10_000);
    value.forEach((v, i) => expectStorable(v, `${at}[${i}]`));
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'runAttempt') expect(v as number, `${at}.runAttempt`).toBeGreaterThanOrEqual(1);
      if (k === 'runAttempt') expect(v as number, `${at}.runAttempt`).toBeLessThanOrEqual(MAX_RUN_ATTEMPT);
      expectStorable(v, `${at}.${k}`);
    }
  }
}

describe('translate, field by field', () => {
  it('refuses what GitHub could never send with the field named, and whatever it accepts encodes and can be stored', () => {
    for (const { event, payload } of exampleDeliveries) expect(translate(meta(event), payload).kind, `${event} example`).toBe('publish');
    fc.assert(
      fc.property(oddDelivery, ({ event, payload, changed }) => {
        const t = translate(meta(event), payload);
        if (t.kind === 'invalid') {
          // The refused field is the one changed, or a part of it (labels[3], repository.id).
          expect(t.field.startsWith(changed) || changed.startsWith(t.field), `refused ${t.field} after changing ${changed}`).toBe(true);
          expect(t.message.startsWith(t.field)).toBe(true);
          return;
        }
        expect(t.kind).toBe('publish');
        if (t.kind !== 'publish') return;
        expect(t.subject).toMatch(/^gh\.[a-z_]+\.[A-Za-z0-9_-]{1,64}$/);
        expect(() => contractsCodec.encode(t.subject, t.message)).not.toThrow();
        expectStorable(t.message);
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses the deliveries that got 500, 503 or a dead letter before, naming the field', () => {
    const job = byName('workflow_job')[0]!;
    const refused = (path: Path, value: unknown) => {
      const p = structuredClone(job);
      setAt(p, path, value);
      return translate(meta('workflow_job'), p);
    };
    for (const attempt of [-1, 0, 1.5, 4294967296, 2 ** 31, '2']) expect(refused(['workflow_job', 'run_attempt'], attempt), String(attempt)).toMatchObject({ kind: 'invalid', field: 'workflow_job.run_attempt' });
    for (const id of [2 ** 63, 2 ** 53, -5, 1.5, '42', 0]) expect(refused(['workflow_job', 'id'], id), String(id)).toMatchObject({ kind: 'invalid', field: 'workflow_job.id' });
    expect(refused(['workflow_job', 'labels'], Array.from({ length: 100_000 }, (_, i) => `l${i}`))).toMatchObject({ kind: 'invalid', field: 'workflow_job.labels', message: expect.stringContaining('at most 128') as unknown });
    expect(refused(['workflow_job', 'labels'], ['self-hosted', 'x'.repeat(900 * 1024)])).toMatchObject({ kind: 'invalid', field: 'workflow_job.labels[1]' });
    expect(refused(['workflow_job', 'labels'], ['self-hosted', 'gpu\u0000'])).toMatchObject({ kind: 'invalid', field: 'workflow_job.labels[1]' });
    expect(refused(['action'], 'q'.repeat(5000))).toMatchObject({ kind: 'invalid', field: 'action' });
    expect(refused(['repository', 'owner', 'login'], 'o'.repeat(3000))).toMatchObject({ kind: 'invalid', field: 'repository.owner.login' });
    expect(refused(['workflow_job', 'created_at'], '-100000-01-01T00:00:00Z')).toMatchObject({ kind: 'invalid', field: 'workflow_job.created_at' });
  });

  it('keeps free text, made storable: NUL and unpaired surrogates become U+FFFD, long names are cut', () => {
    const p = structuredClone(byName('workflow_job')[0]!) as { workflow_job: Record<string, unknown> };
    p.workflow_job.name = 'build\u0000 \ud800';
    p.workflow_job.workflow_name = 'w'.repeat(5000);
    const t = translate(meta('workflow_job'), p);
    if (t.kind !== 'publish' || !t.subject.startsWith('gh.workflow_job.')) throw new Error(`expected a message, got ${JSON.stringify(t)}`);
    const m = t.message as { jobName: string; workflowName: string };
    expect(m.jobName).toBe('build\ufffd \ufffd');
    expect(m.workflowName).toHaveLength(MAX_TEXT);
    expect(m.workflowName.endsWith('…')).toBe(true);
  });
});
