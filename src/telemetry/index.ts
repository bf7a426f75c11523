/**
 * The telemetry component's public surface; other components import only this module.
 */
export * from './types.js';
export {
  createSqliteTelemetryStore,
  type SqliteTelemetryStore,
  type SqliteTelemetryStoreOptions,
  type RawHeartbeatRow,
} from './sqlite/index.js';
export {
  createGroupCommitter,
  type GroupCommitter,
  type GroupCommitterOptions,
  type CommitCallback,
  type CommitStats,
} from './group-commit.js';
export {
  createEvidenceStore,
  type EvidenceStore,
  type ConnectionEvent,
  type ConnectionSummary,
  type RejectionCount,
} from './evidence.js';
export { CONNECTION_KINDS, REJECTION_REASONS, type ConnectionKind, type RejectionReason } from './evidence-kinds.js';
export { createMinuteMap, setMinute, isMinuteSet, countMinutes, countMinutesUpTo, orInto } from '../activity/index.js';
