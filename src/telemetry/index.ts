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
  type ConnectionKind,
  type ConnectionSummary,
  type RejectionCount,
  type RejectionReason,
} from './evidence.js';
export { createMinuteMap, setMinute, isMinuteSet, countMinutes, countMinutesUpTo, orInto } from './minute-map.js';
