import { sign as ed25519Sign } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { Logger } from '../log.js';
import { canonicalJson } from '../verifier/index.js';
import { loadOrCreateKeyFile, parseKeySet, type KeySet, type PublicJwk } from './keys.js';

/** JWS `typ` of each kind of signed document, so one kind is never accepted as another. */
export const JWS_TYPES = {
  report: 'gateway-report+json',
  treeHead: 'gateway-tree-head+json',
  decision: 'gateway-decision+json',
} as const;
export type JwsType = (typeof JWS_TYPES)[keyof typeof JWS_TYPES];

export interface Signer {
  /**
   * RFC 7515 compact JWS of the canonical JSON of `payload`, `alg: EdDSA` (RFC 8037) with the
   * active key's `kid`. Synchronous, so a decision is signed inside the SQLite transaction that
   * stores it. Ed25519 is deterministic: the output is byte for byte what jose's CompactSign
   * produces for the same header and payload (test/unit/trust/signer.test.ts).
   */
  signJson(payload: unknown, typ: JwsType, header?: Record<string, unknown>): string;
  activeKid(): string;
  /** Public keys in the key file, active first. */
  publicKeys(): PublicJwk[];
}

export interface SignerOptions {
  file: string;
  log: Logger;
}

/**
 * Loads (or creates, mode 0600) the key file and signs with its active key. The file is
 * re-read when it changes on disk, so `gateway rotate-signing-key` takes effect on running
 * gateways without a restart. Key material is never logged: only kids.
 */
export function createSigner(options: SignerOptions): Signer {
  const { file, log } = options;
  const { keys: initial, created } = loadOrCreateKeyFile(file);
  let keys: KeySet = initial;
  let stamp = fileStamp(file);
  if (created) log.info({ file, kid: keys.active.kid }, 'signing key created');
  else log.info({ file, kid: keys.active.kid, publicKeys: keys.publicKeys.length }, 'signing key loaded');
  if ((statSync(file).mode & 0o077) !== 0) log.warn({ file }, 'signing key file is readable by group or others; chmod 600 it');

  const current = (): KeySet => {
    const now = fileStamp(file);
    if (now !== stamp) {
      try {
        keys = parseKeySet(file, readFileSync(file, 'utf8'));
        stamp = now;
        log.info({ file, kid: keys.active.kid }, 'signing key file reloaded');
      } catch (err) {
        // A half-edited file must not stop signing: keep the last good key set and say so.
        log.error({ file, reason: err instanceof Error ? err.message : String(err) }, 'signing key file not reloaded; still signing with the previous key');
      }
    }
    return keys;
  };

  return {
    signJson(payload, typ, header = {}) {
      const { active } = current();
      const protectedHeader = { ...header, alg: 'EdDSA', kid: active.kid, typ };
      const signingInput = `${b64url(JSON.stringify(protectedHeader))}.${b64url(canonicalJson(payload))}`;
      const signature = ed25519Sign(null, Buffer.from(signingInput, 'ascii'), active.privateKey);
      return `${signingInput}.${signature.toString('base64url')}`;
    },
    activeKid: () => current().active.kid,
    publicKeys: () => current().publicKeys,
  };
}

function b64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

function fileStamp(file: string): string {
  try {
    const s = statSync(file);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return 'missing';
  }
}
