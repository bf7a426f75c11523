/**
 * The telemetry component's public surface; other components import only this module.
 */
export * from './types.js';
export { createSqliteTelemetryStore } from './sqlite/index.js';
export { createGroupCommitter } from './group-commit.js';
export {
  createEvidenceStore,
  summarizeConnections,
  type EvidenceStore,
} from './evidence.js';
export { CONNECTION_KINDS, REJECTION_REASONS, type ConnectionKind, type CountedReason, type RejectionReason } from './evidence-kinds.js';
export { createEdgeEvidence, type EdgeEvidence } from './edge-evidence.js';
