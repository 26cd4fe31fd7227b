/**
 * The runner's side of the simulator's runner protocol (tools/github-sim/README.md). The real
 * runner speaks the Actions broker's private protocol; this one has the same steps: a session, a
 * long poll for the job, renewals while it runs, a completion report.
 */

export interface AssignedJob {
  id: number;
  runId: number;
  name: string;
  repository: string;
  durationMs: number;
  command: string | null;
  conclusion: string;
}

export class ProtocolError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The broker's error kind (`RunnerVersionTooOld`, ...), when it sent one. */
    readonly errorKind?: string,
  ) {
    super(message);
  }
}

export class RunnerProtocol {
  constructor(
    private readonly serverUrl: string,
    private readonly token: string,
  ) {}

  private async call(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${this.serverUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, 'user-agent': 'runnerhub-fake-runner/1', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
    const text = await response.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      parsed = { message: text };
    }
    if (response.status >= 400) {
      const kind = typeof parsed['errorKind'] === 'string' ? parsed['errorKind'] : undefined;
      throw new ProtocolError(response.status, typeof parsed['message'] === 'string' ? parsed['message'] : `HTTP ${response.status}`, kind);
    }
    return { status: response.status, body: parsed };
  }

  async createSession(agentId: number, version: string): Promise<string> {
    const { body } = await this.call('POST', '/_runner/sessions', { agentId, version, os: 'Linux' });
    return String(body['sessionId']);
  }

  /** The assigned job, or undefined when none came within the wait. */
  async nextJob(sessionId: string, waitSeconds: number, signal?: AbortSignal): Promise<AssignedJob | undefined> {
    const { status, body } = await this.call('GET', `/_runner/sessions/${sessionId}/message?waitSeconds=${waitSeconds}`, undefined, signal);
    if (status === 204) return undefined;
    return body['job'] as AssignedJob;
  }

  async renew(jobId: number): Promise<{ cancelRequested: boolean }> {
    const { body } = await this.call('POST', `/_runner/jobs/${jobId}/renew`);
    return { cancelRequested: body['cancelRequested'] === true };
  }

  async complete(jobId: number, conclusion: 'success' | 'failure' | 'cancelled', exitCode?: number): Promise<void> {
    await this.call('POST', `/_runner/jobs/${jobId}/complete`, { conclusion, exitCode });
  }

  async deleteSession(sessionId: string): Promise<void> {
    await this.call('DELETE', `/_runner/sessions/${sessionId}`).catch(() => undefined);
  }
}
