/**
 * The gateway's use-cases, one file each: the only place each behaviour lives. Broker hooks
 * and HTTP routes are thin adapters over these; src/gateway.ts wires them.
 */
export { createHeartbeatAdmission, type AdmitHeartbeat, type IngestContext } from './admit-heartbeat.js';
export { rotateDeviceToken, setDeviceEnabled, type SessionCloser } from './device-credentials.js';
export { createEvidenceFlusher, type EvidenceFlusher } from './flush-evidence.js';
export { recordBan } from './record-ban.js';
export { createRawRetention, type RawRetention } from './prune-raw-heartbeats.js';
export { createVerificationService, registryVerificationSources, type VerificationService } from './verification.js';
