import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/**
 * What the scale-set message queue delivers (tools/github-sim/contracts/scale-set.md §Messages,
 * actions/scaleset types.go): an envelope whose `body` is a JSON *string* holding up to 50 job
 * messages. Parsing never throws on a job message it does not understand: unknown types are
 * kept aside (GitHub may add some), malformed known ones are reported as invalid, so a listener
 * can log them and acknowledge the message instead of choking on it forever (cloudbase/garm#817).
 * Only an envelope without a usable `messageId` is an error: such a message cannot be acknowledged.
 */

export const ScaleSetStatisticsSchema = Type.Object({
  totalAvailableJobs: Type.Integer({ minimum: 0 }),
  totalAcquiredJobs: Type.Integer({ minimum: 0 }),
  totalAssignedJobs: Type.Integer({ minimum: 0 }),
  totalRunningJobs: Type.Integer({ minimum: 0 }),
  totalRegisteredRunners: Type.Integer({ minimum: 0 }),
  totalBusyRunners: Type.Integer({ minimum: 0 }),
  totalIdleRunners: Type.Integer({ minimum: 0 }),
});
export type ScaleSetStatistics = Static<typeof ScaleSetStatisticsSchema>;

const Time = Type.Optional(Type.String());
const base = {
  runnerRequestId: Type.Integer({ minimum: 0 }),
  repositoryName: Type.String({ minLength: 1 }),
  ownerName: Type.String({ minLength: 1 }),
  jobId: Type.String({ minLength: 1 }),
  jobWorkflowRef: Type.String(),
  jobDisplayName: Type.String(),
  workflowRunId: Type.Integer({ minimum: 0 }),
  eventName: Type.String(),
  requestLabels: Type.Array(Type.String()),
  queueTime: Time,
  scaleSetAssignTime: Time,
  runnerAssignTime: Time,
  finishTime: Time,
};
const runner = { runnerId: Type.Integer({ minimum: 0 }), runnerName: Type.String() };

const JobAvailableWire = Type.Object({ messageType: Type.Literal('JobAvailable'), acquireJobUrl: Type.String(), ...base });
const JobAssignedWire = Type.Object({ messageType: Type.Literal('JobAssigned'), ...base });
const JobStartedWire = Type.Object({ messageType: Type.Literal('JobStarted'), ...base, ...runner });
const JobCompletedWire = Type.Object({ messageType: Type.Literal('JobCompleted'), result: Type.String(), ...base, ...runner });
type Wire = Static<typeof JobAvailableWire> | Static<typeof JobAssignedWire> | Static<typeof JobStartedWire> | Static<typeof JobCompletedWire>;
const WIRE: Record<string, TSchema | undefined> = { JobAvailable: JobAvailableWire, JobAssigned: JobAssignedWire, JobStarted: JobStartedWire, JobCompleted: JobCompletedWire };

const EnvelopeSchema = Type.Object({
  messageId: Type.Integer({ minimum: 1 }),
  messageType: Type.String(),
  body: Type.Optional(Type.String()),
  statistics: Type.Optional(Type.Union([ScaleSetStatisticsSchema, Type.Null()])),
});

export interface JobMessageCommon {
  /** 0 on github.com, where jobs are assigned without an offer; the id to acquire on GHES. */
  runnerRequestId: number;
  /** The repository's name without its owner. */
  repositoryName: string;
  ownerName: string;
  /** The job in the queue's terms: an opaque GUID, not the REST/webhook job id. */
  jobId: string;
  /** `owner/repo/.github/workflows/file.yml@ref`. */
  jobWorkflowRef: string;
  jobDisplayName: string;
  workflowRunId: number;
  eventName: string;
  requestLabels: string[];
  /** Undefined where GitHub sent none (Go's zero time). */
  queueTime: Date | undefined;
  scaleSetAssignTime: Date | undefined;
  runnerAssignTime: Date | undefined;
  finishTime: Date | undefined;
}

export type JobMessage = JobMessageCommon &
  (
    | { type: 'JobAvailable'; acquireJobUrl: string }
    | { type: 'JobAssigned' }
    | { type: 'JobStarted'; runnerId: number; runnerName: string }
    | { type: 'JobCompleted'; result: string; runnerId: number; runnerName: string }
  );

export interface ScaleSetMessage {
  messageId: number;
  /** The scale set's statistics when the message was made; absent if GitHub sent none. */
  statistics: ScaleSetStatistics | undefined;
  jobs: JobMessage[];
  /** Job messages of a type this client does not know (kept, not acted on). */
  unknown: { messageType: string; raw: unknown }[];
  /** Job messages that are not what their type promises, with why. */
  invalid: { raw: unknown; problems: string[] }[];
}

export class ScaleSetMessageError extends Error {}

const BOM = /^\uFEFF/;

/** Azure's and Go's unset time; anything unparseable counts as unset too. */
function time(value: string | undefined): Date | undefined {
  if (value === undefined || value.startsWith('0001-01-01')) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? new Date(ms) : undefined;
}

function problems(schema: TSchema, value: unknown): string[] {
  return [...Value.Errors(schema, value)].slice(0, 5).map((e) => `${e.path || '/'} ${e.message}`);
}

/** The answer of a 200 poll, as text (a leading byte order mark is dropped). */
export function parseScaleSetMessage(text: string): ScaleSetMessage {
  let envelope: unknown;
  try {
    envelope = JSON.parse(text.replace(BOM, ''));
  } catch {
    throw new ScaleSetMessageError('the message is not JSON');
  }
  if (!Value.Check(EnvelopeSchema, envelope)) throw new ScaleSetMessageError(`the message is not a queue message: ${problems(EnvelopeSchema, envelope).join('; ')}`);
  const message: ScaleSetMessage = { messageId: envelope.messageId, statistics: envelope.statistics ?? undefined, jobs: [], unknown: [], invalid: [] };
  if (envelope.messageType !== 'RunnerScaleSetJobMessages') {
    message.unknown.push({ messageType: envelope.messageType, raw: envelope.body });
    return message;
  }
  let batch: unknown = [];
  try {
    batch = envelope.body ? JSON.parse(envelope.body.replace(BOM, '')) : [];
  } catch {
    message.invalid.push({ raw: envelope.body, problems: ['body is not a JSON string'] });
    return message;
  }
  if (!Array.isArray(batch)) {
    message.invalid.push({ raw: batch, problems: ['body is not a JSON array'] });
    return message;
  }
  for (const raw of batch as unknown[]) {
    const type = raw && typeof raw === 'object' ? (raw as { messageType?: unknown }).messageType : undefined;
    const schema = typeof type === 'string' ? WIRE[type] : undefined;
    if (typeof type !== 'string') message.invalid.push({ raw, problems: ['messageType is missing'] });
    else if (!schema) message.unknown.push({ messageType: type, raw });
    else if (!Value.Check(schema, raw)) message.invalid.push({ raw, problems: problems(schema, raw) });
    else message.jobs.push(toJobMessage(Value.Clean(schema, structuredClone(raw)) as Wire));
  }
  return message;
}

/** The wire message (checked, extra fields cleaned off) with its times as Dates. */
function toJobMessage(wire: Wire): JobMessage {
  const { messageType, queueTime, scaleSetAssignTime, runnerAssignTime, finishTime, ...fields } = wire;
  const times = { queueTime: time(queueTime), scaleSetAssignTime: time(scaleSetAssignTime), runnerAssignTime: time(runnerAssignTime), finishTime: time(finishTime) };
  return { ...fields, ...times, type: messageType } as JobMessage;
}
