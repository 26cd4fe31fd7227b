import { Type, type Static } from '@sinclair/typebox';
import { QueueTokenExpiredError, UnexpectedAnswerError } from './errors.js';
import { parseScaleSetMessage, ScaleSetMessageError, ScaleSetStatisticsSchema, type ScaleSetMessage, type ScaleSetStatistics } from './messages.js';
import { decode, type Tenant } from './tenant.js';
import { describe, send, type ActionsRequest } from './transport.js';

/**
 * One message session of a scale set (contracts/scale-set.md §3, actions/scaleset
 * session_client.go): the long poll, acknowledgements, acquiring offered jobs (GHES), refresh and
 * close. The queue has its own token: on a 401 the session is refreshed (PATCH) and the call sent
 * once more; a second 401 is a QueueTokenExpiredError. A session GitHub dropped (closed, or expired
 * while nobody polled) answers SessionNotFoundError: open a new one.
 */

export const SessionSchema = Type.Object({
  sessionId: Type.String({ minLength: 1 }),
  ownerName: Type.String(),
  messageQueueUrl: Type.String({ minLength: 1 }),
  messageQueueAccessToken: Type.String({ minLength: 1 }),
  statistics: Type.Optional(Type.Union([ScaleSetStatisticsSchema, Type.Null()])),
});
type SessionWire = Static<typeof SessionSchema>;

const AcquiredSchema = Type.Object({ count: Type.Integer({ minimum: 0 }), value: Type.Array(Type.Integer()) });
const SCALE_SETS = '_apis/runtime/runnerscalesets';

export class MessageSession {
  constructor(
    private readonly tenant: Tenant,
    readonly scaleSetId: number,
    private info: SessionWire,
    private readonly pollTimeoutMs: number,
  ) {}

  get id(): string {
    return this.info.sessionId;
  }

  get ownerName(): string {
    return this.info.ownerName;
  }

  /** The statistics of the last session answer (create or refresh): where a listener starts from. */
  get statistics(): ScaleSetStatistics | undefined {
    return this.info.statistics ?? undefined;
  }

  /**
   * The next message after `lastMessageId` (0: the first unacknowledged), or undefined when GitHub
   * had none for the length of its long poll (202). `maxCapacity` is announced with every poll
   * (`X-ScaleSetMaxCapacity`) and is admission: a job that queues while it is 0 is never this
   * scale set's. Unknown or malformed job messages come back in `unknown`/`invalid`, never thrown.
   */
  async getMessage(lastMessageId: number, maxCapacity: number, signal?: AbortSignal): Promise<ScaleSetMessage | undefined> {
    if (!Number.isInteger(maxCapacity) || maxCapacity < 0) throw new RangeError(`maxCapacity must be a non-negative integer, not ${maxCapacity}`);
    const build = (): ActionsRequest => {
      const url = new URL(this.info.messageQueueUrl);
      if (lastMessageId > 0) url.searchParams.set('lastMessageId', String(lastMessageId));
      return {
        method: 'GET',
        url,
        authorization: `Bearer ${this.info.messageQueueAccessToken}`,
        headers: { accept: 'application/json; api-version=6.0-preview', 'x-scalesetmaxcapacity': String(maxCapacity) },
        timeoutMs: this.pollTimeoutMs,
        signal,
      };
    };
    const request = build();
    const answer = await this.queueCall(request, [200, 202], build);
    if (answer.status === 202) return undefined;
    try {
      return parseScaleSetMessage(answer.text);
    } catch (error) {
      if (!(error instanceof ScaleSetMessageError)) throw error;
      throw new UnexpectedAnswerError({ ...describe(request), status: answer.status, githubMessage: error.message, requestId: answer.headers.get('activityid') ?? undefined });
    }
  }

  /** The acknowledgement: until it, the message is delivered again to a poll from before it. */
  async deleteMessage(messageId: number): Promise<void> {
    const build = (): ActionsRequest => {
      const url = new URL(this.info.messageQueueUrl);
      url.pathname = `${url.pathname.replace(/\/+$/, '')}/${messageId}`;
      return { method: 'DELETE', url, authorization: `Bearer ${this.info.messageQueueAccessToken}`, timeoutMs: this.tenant.timeoutMs };
    };
    await this.queueCall(build(), [204], build);
  }

  /** GHES: takes offered jobs (JobAvailable's runnerRequestId); answers the ones GitHub gave. */
  async acquireJobs(runnerRequestIds: number[]): Promise<number[]> {
    if (runnerRequestIds.length === 0) return [];
    const path = `${SCALE_SETS}/${this.scaleSetId}/acquirejobs`;
    const build = async (): Promise<ActionsRequest> => this.tenant.request('POST', path, { body: runnerRequestIds, authorization: `Bearer ${this.info.messageQueueAccessToken}` });
    let request = await build();
    const answer = await send(this.tenant.transport, request, {
      ok: [200],
      reauthorize: async () => {
        await this.refresh();
        request = await build();
        return request;
      },
      unauthorized: (fields) => new QueueTokenExpiredError(fields),
    });
    return (decode(answer, request, AcquiredSchema) as Static<typeof AcquiredSchema>).value;
  }

  /** A new queue token for the same session (what a 401 on the queue calls for). */
  async refresh(): Promise<void> {
    this.info = await this.tenant.call('PATCH', `${SCALE_SETS}/${this.scaleSetId}/sessions/${this.info.sessionId}`, { ok: [200], schema: SessionSchema });
  }

  /** Ends the session so a successor gets one at once; a killed process cannot, and leaves a ghost. */
  async close(): Promise<void> {
    await this.tenant.call('DELETE', `${SCALE_SETS}/${this.scaleSetId}/sessions/${this.info.sessionId}`, { ok: [204], schema: undefined });
  }

  private async queueCall(request: ActionsRequest, ok: number[], rebuild: () => ActionsRequest): Promise<Awaited<ReturnType<typeof send>>> {
    return send(this.tenant.transport, request, {
      ok,
      reauthorize: async () => {
        await this.refresh();
        return rebuild();
      },
      unauthorized: (fields) => new QueueTokenExpiredError(fields),
    });
  }
}
