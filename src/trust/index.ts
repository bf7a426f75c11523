/**
 * Trust: signatures and the transparency log (issue 18). Reports, decisions and tree heads are
 * signed as compact JWS (EdDSA, Ed25519) with the key set in GATEWAY_SIGNING_KEY_FILE; the
 * audit log is the leaf sequence of an RFC 9162 §2.1 Merkle tree, so anyone holding a signed
 * tree head can prove offline that no earlier entry was changed. Other components import only
 * this module.
 */
export { AUDIT_ENTRY_VERSION, auditEntryBytes, type AuditRow } from './audit-entry.js';
export { createIntegrityChecker, type IntegrityChecker, type IntegrityState } from './integrity.js';
export { jwkThumbprint, KeyFileError, loadOrCreateKeyFile, rotateKeyFile, type PublicJwk } from './keys.js';
export {
  consistencyPath,
  EMPTY_ROOT,
  inclusionPath,
  leafHash,
  nodeHash,
  rootHash,
  verifyConsistency,
  verifyInclusion,
  type Hash,
} from './merkle.js';
export { trustMigration } from './schema.js';
export { createSignedRecords, type SignedRecords } from './signed-records.js';
export { createTrust, type Trust, type TrustOptions } from './service.js';
export { createSigner, JWS_TYPES, type JwsType, type Signer } from './signer.js';
export { createAuditTree, type AuditTree } from './tree-store.js';
export {
  createTransparencyLog,
  type ConsistencyProof,
  type InclusionProof,
  type LogEntry,
  type SignedTreeHead,
  type TransparencyLog,
  type TreeHead,
} from './transparency-log.js';
export { verifyJws, type VerifiedJws } from './verify.js';
