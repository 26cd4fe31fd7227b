// Public API of @runnerhub/contracts: message types generated from proto/, the subject names, the
// subject → message registry, the codec the NATS layer uses, and the stream definitions.
export {
  githubEvents,
  NO_ACTION,
  jobSubjects,
  runnerSubjects,
  poolSubjects,
  executorVerbs,
  POOL_DEFINITIONS_BUCKET,
  InvalidSubjectTokenError,
  isSubjectToken,
  githubSubject,
  executorCommandSubject,
  executorHeartbeatSubject,
  executorInventorySubject,
  deadLetterSubject,
  poolDefinitionKvSubject,
  subjectFilters,
} from './subjects.js';
export type { GithubEvent, ExecutorVerb } from './subjects.js';
export { subjectRegistry, subjectMatches, isConcreteSubject, registrationsFor } from './registry.js';
export type { SubjectMessages, Subject, SubjectSchema, SubjectInit, SubjectRegistration } from './registry.js';
export {
  contractsCodec,
  schemaForSubject,
  encodeMessage,
  decodeMessage,
  decodeFrom,
  UnknownSubjectError,
  UndecodableMessageError,
  UnencodableMessageError,
} from './codec.js';
export type { MessageCodec } from './codec.js';
export { streamDefinitions, streamForSubject, headerNames, leaseBuckets } from './streams.js';
export type { StreamDefinition, StreamName } from './streams.js';

// The protobuf-es helpers every publisher needs, so services depend on this package alone.
export { create, isMessage, toBinary, fromBinary } from '@bufbuild/protobuf';
export type { MessageInitShape, MessageShape } from '@bufbuild/protobuf';
export { timestampDate, timestampFromDate, timestampNow, timestampFromMs, timestampMs } from '@bufbuild/protobuf/wkt';
export type { Timestamp } from '@bufbuild/protobuf/wkt';

// Generated code is re-exported whole: listing every message, enum and schema by hand would need an
// edit for each new field, and proto/ is already the reviewed list.
export * from './gen/runnerhub/v1/github_pb.js';
export * from './gen/runnerhub/v1/jobs_pb.js';
export * from './gen/runnerhub/v1/demand_pb.js';
export * from './gen/runnerhub/v1/pools_pb.js';
export * from './gen/runnerhub/v1/runners_pb.js';
export * from './gen/runnerhub/v1/executor_pb.js';
export * from './gen/runnerhub/v1/dead_letter_pb.js';
export { jobStatusFromGitHub, jobConclusionFromGitHub, jobStatusWord, jobConclusionWord } from './github-enums.js';
export { workflowJobEventFromApi } from './workflow-job-from-api.js';
export type { ApiJob, ApiJobRepository } from './workflow-job-from-api.js';
