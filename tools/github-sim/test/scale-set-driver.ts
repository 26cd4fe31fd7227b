import type { GitHubSim, ScaleSetStatistics as Statistics } from '../src/index.js';
import { api, installationToken } from './helpers.js';

/**
 * The scale-set protocol by hand, as actions/scaleset speaks it (contracts/scale-set.md): enough
 * for the simulator's tests to drive every step and look at raw answers.
 */

export interface Raw<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  /** The text as sent (a BOM included). */
  text: string;
  body: T;
}

async function send<T>(url: string, init: RequestInit): Promise<Raw<T>> {
  const response = await fetch(url, init);
  // response.text() would drop a byte order mark; the tests want to see it.
  const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(await response.arrayBuffer());
  const json = text.replace(/^\uFEFF/, '');
  return { status: response.status, headers: response.headers, text, body: (json ? JSON.parse(json) : undefined) as T };
}

export interface JobMessage {
  messageType: string;
  runnerRequestId: number;
  jobId: string;
  repositoryName: string;
  ownerName: string;
  jobDisplayName: string;
  workflowRunId: number;
  requestLabels: string[];
  runnerId?: number;
  runnerName?: string;
  result?: string;
  acquireJobUrl?: string;
}

export interface Message {
  messageId: number;
  messageType: string;
  body: string;
  statistics: Statistics;
  jobs: JobMessage[];
}

export class Tenant {
  private constructor(
    readonly sim: GitHubSim,
    readonly url: string,
    readonly token: string,
  ) {}

  /** Installation token → registration token → POST /actions/runner-registration. */
  static async connect(sim: GitHubSim, installationId: number, scope: { repository: string } | { org: string }): Promise<Tenant> {
    const token = await installationToken(sim, installationId);
    const path = 'repository' in scope ? `/repos/${scope.repository}` : `/orgs/${scope.org}`;
    const registration = await api<{ token: string }>(sim, 'POST', `${path}/actions/runners/registration-token`, token);
    if (registration.status !== 201) throw new Error(`registration token: ${registration.status}`);
    const admin = await registerRunner(sim, registration.body.token, `${sim.url}/${'repository' in scope ? scope.repository : scope.org}`);
    if (admin.status !== 200) throw new Error(`runner-registration: ${admin.status} ${admin.text}`);
    return new Tenant(sim, admin.body.url, admin.body.token);
  }

  call<T = Record<string, unknown>>(method: string, path: string, body?: unknown, token = this.token): Promise<Raw<T>> {
    const url = new URL(path, this.url);
    if (!url.searchParams.has('api-version')) url.searchParams.set('api-version', '6.0-preview');
    return send<T>(url.toString(), {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  async createScaleSet(name: string, options: { runnerGroupId?: number; labels?: string[] } = {}): Promise<{ id: number; name: string; labels: { name: string }[] }> {
    const labels = (options.labels ?? [name]).map((l) => ({ name: l, type: 'System' }));
    const created = await this.call<{ id: number; name: string; labels: { name: string }[] }>('POST', '_apis/runtime/runnerscalesets', {
      name,
      runnerGroupId: options.runnerGroupId ?? 1,
      labels,
      RunnerSetting: { disableUpdate: true },
      createdOn: '0001-01-01T00:00:00Z',
    });
    if (created.status !== 200) throw new Error(`create scale set: ${created.status} ${created.text}`);
    return created.body;
  }

  async openSession(scaleSetId: number, ownerName = 'listener-1'): Promise<Session> {
    const created = await this.call<SessionBody>('POST', `_apis/runtime/runnerscalesets/${scaleSetId}/sessions`, { ownerName });
    if (created.status !== 200) throw new Error(`create session: ${created.status} ${created.text}`);
    return new Session(this, scaleSetId, created.body);
  }

  async jitConfig(scaleSetId: number, name: string): Promise<{ runner: { id: number; name: string; runnerScaleSetId: number }; encodedJITConfig: string }> {
    const answer = await this.call<{ runner: { id: number; name: string; runnerScaleSetId: number }; encodedJITConfig: string }>(
      'POST',
      `_apis/runtime/runnerscalesets/${scaleSetId}/generatejitconfig`,
      { name, workFolder: '' },
    );
    if (answer.status !== 200) throw new Error(`generatejitconfig: ${answer.status} ${answer.text}`);
    return answer.body;
  }
}

export function registerRunner(sim: GitHubSim, registrationToken: string, configUrl: string): Promise<Raw<{ url: string; token: string }>> {
  return send(`${sim.url}/actions/runner-registration`, {
    method: 'POST',
    headers: { authorization: `RemoteAuth ${registrationToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url: configUrl, runner_event: 'register' }),
  });
}

export interface SessionBody {
  sessionId: string;
  ownerName: string;
  messageQueueUrl: string;
  messageQueueAccessToken: string;
  statistics: Statistics;
  runnerScaleSet: { id: number; name: string };
}

export class Session {
  constructor(
    readonly tenant: Tenant,
    readonly scaleSetId: number,
    public info: SessionBody,
  ) {}

  /** GET the queue; lastMessageId only when > 0, as the Go client does. */
  async poll(lastMessageId: number, capacity: number, signal?: AbortSignal): Promise<Raw<Message>> {
    const url = new URL(this.info.messageQueueUrl);
    if (lastMessageId > 0) url.searchParams.set('lastMessageId', String(lastMessageId));
    const answer = await send<Message>(url.toString(), {
      headers: { authorization: `Bearer ${this.info.messageQueueAccessToken}`, accept: 'application/json; api-version=6.0-preview', 'x-scalesetmaxcapacity': String(capacity) },
      signal,
    });
    if (answer.status === 200) answer.body.jobs = JSON.parse(answer.body.body) as JobMessage[];
    return answer;
  }

  /** Polls until a message comes (the sim's empty polls are short in these tests). */
  async next(lastMessageId: number, capacity: number): Promise<Message> {
    for (let i = 0; i < 50; i++) {
      const answer = await this.poll(lastMessageId, capacity);
      if (answer.status === 200) return answer.body;
      if (answer.status !== 202) throw new Error(`poll: ${answer.status} ${answer.text}`);
    }
    throw new Error('no message after 50 polls');
  }

  async ack(messageId: number): Promise<number> {
    const url = new URL(this.info.messageQueueUrl);
    url.pathname = `${url.pathname}/${messageId}`;
    const answer = await send(url.toString(), { method: 'DELETE', headers: { authorization: `Bearer ${this.info.messageQueueAccessToken}`, 'content-type': 'application/json' } });
    return answer.status;
  }

  async refresh(): Promise<Raw<SessionBody>> {
    const answer = await this.tenant.call<SessionBody>('PATCH', `_apis/runtime/runnerscalesets/${this.scaleSetId}/sessions/${this.info.sessionId}`);
    if (answer.status === 200) this.info = answer.body;
    return answer;
  }

  acquire(ids: number[]): Promise<Raw<{ count: number; value: number[] }>> {
    return this.tenant.call('POST', `_apis/runtime/runnerscalesets/${this.scaleSetId}/acquirejobs`, ids, this.info.messageQueueAccessToken);
  }

  async close(): Promise<number> {
    return (await this.tenant.call('DELETE', `_apis/runtime/runnerscalesets/${this.scaleSetId}/sessions/${this.info.sessionId}`)).status;
  }
}
