export { backoffDelayMs } from "./backoff.ts";
export {
  type DeadLetter,
  type DeadLetterFilter,
  deadLetterOf,
  matchesFilter,
  type RedriveLog,
  type RedriveRecord,
  redriveToken,
  traceIdOf,
} from "./dead-letter.ts";
export { formatDuration, parseDuration } from "./durations.ts";
export {
  type Attempt,
  decodeEntry,
  encodeEntry,
  envelopeSchemaPath,
  type Operation,
  type WalEntry,
  walHeaders,
} from "./envelope.ts";
export { describeError, ErrorCode, isWalError, WalError, type WalErrorOptions } from "./errors.ts";
export { type ChainLink, KeyChains } from "./key-chains.ts";
export type { LogAppender, LogRecord } from "./log.ts";
export {
  type BackoffConfig,
  type NamespaceConfig,
  type NamespaceConfigInput,
  parseNamespaceConfig,
  parseNamespacesFile,
  type RetryPolicy,
  type TargetConfig,
  topicRetentionMs,
} from "./namespace-config.ts";
export type { LiveNamespace, NamespaceSource, NamespaceUpdate } from "./namespace-source.ts";
export {
  type ChangeContext,
  type NamespaceAction,
  type NamespaceChange,
  NamespaceConflictError,
  type NamespaceRecord,
  type NamespaceStore,
  namespaceNotFound,
  type ProposedChange,
} from "./namespace-store.ts";
export { OffsetTracker } from "./offset-tracker.ts";
export {
  checkPayload,
  type PayloadSchema,
  type PayloadSchemas,
  toWireFormat,
} from "./payload-schema.ts";
export { RecentIds } from "./recent-ids.ts";
export {
  afterFailure,
  type Failure,
  type FailureOutcome,
  planWait,
  type Wait,
} from "./retry-policy.ts";
export {
  type CompatibilityLevel,
  type CompatibilityProblem,
  checkCompatibility,
  compatibilityLevels,
  type SchemaVersion,
} from "./schema-compatibility.ts";
export {
  type ConfiguredLevels,
  type Registration,
  type RegistryStore,
  registryMediaType,
  type StoredVersion,
  subjectPattern,
  subjectPatternMessage,
} from "./schema-registry-store.ts";
export { type Delivery, type FailureKind, type Target, TargetError } from "./target.ts";
export {
  memcachedMaxItemBytes,
  memcachedMaxKeyBytes,
  memcachedVersionSuffix,
  targetLimitProblem,
} from "./target-limits.ts";
export { TimedLanes } from "./timed-lanes.ts";
export { namespaceTopics, topicNames } from "./topics.ts";
export { Durability } from "./trilean.ts";
export { describeIssues, issueField } from "./validation.ts";
export {
  buildEntry,
  entryIdFor,
  maxIdempotencyKeyLength,
  type WriteRequest,
} from "./write-request.ts";
