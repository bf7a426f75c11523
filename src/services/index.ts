/**
 * The gateway's use-cases, one file each: the only place each behaviour lives. Broker hooks
 * and HTTP routes are thin adapters over these; src/gateway.ts wires them.
 */
export { createHeartbeatAdmission } from './admit-heartbeat.js';
export { rotateDeviceToken, setDeviceEnabled, type SessionCloser } from './device-credentials.js';
export { createDeviceDirectory } from './device-directory.js';
export { createSessionCoordinator, SessionSupersededError, startSessionWatch, type SessionCoordinator, type SessionWatch } from './device-sessions.js';
export { setEdgeNodeDevices } from './edge-bindings.js';
export { createEvidenceFlusher } from './flush-evidence.js';
export { startNodeAnnouncer, type NodeAnnouncer } from './announce-node.js';
export { recordBan } from './record-ban.js';
export { createDeviceBanSharer } from './share-device-ban.js';
export { createRawRetention } from './prune-raw-heartbeats.js';
export { createVerificationService, registryVerificationSources, type VerificationService } from './verification.js';
// The money path (SPEC rules 11–14): admission → application → review → settlement, spot checks.
export * from './redemption/index.js';
