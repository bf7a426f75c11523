/**
 * Trust: signatures and the transparency log (issue 18). Reports, decisions and tree heads are
 * signed as compact JWS (EdDSA, Ed25519) with the key set in GATEWAY_SIGNING_KEY_FILE; the
 * audit log is the leaf sequence of an RFC 9162 §2.1 Merkle tree, so anyone holding a signed
 * tree head can prove offline that no earlier entry was changed. Other components import only
 * this module.
 */
export { auditEntryBytes, type AuditRow } from './audit-entry.js';
export { createIntegrityChecker, type IntegrityState } from './integrity.js';
export { KeyFileError, loadOrCreateKeyFile, rotateKeyFile } from './keys.js';
export { inclusionPath, verifyConsistency, verifyInclusion } from './merkle.js';
export { trustMigration } from './schema.js';
export { createSignedRecords, type SignedRecords } from './signed-records.js';
export { createTrust, type Trust } from './service.js';
export { createSigner, JWS_TYPES, type Signer } from './signer.js';
export { createAuditTree, type AuditTree } from './tree-store.js';
export { createTransparencyLog } from './transparency-log.js';
export { verifyJws } from './verify.js';
