import { createHash, createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';

/**
 * The signing key file (GATEWAY_SIGNING_KEY_FILE): a JWK Set (RFC 7517 §5) of Ed25519 keys.
 * Exactly one key carries its private part `d`: the active key. The others are retired
 * public keys, kept so that their signatures stay verifiable after a rotation; a rotation
 * strips `d` from the old key, so the file never holds more than one private key. Nodes of
 * one deployment share this file (the same key set), so any node's signature verifies
 * against any node's JWKS.
 */
const publicJwk = z.object({
  kty: z.literal('OKP'),
  crv: z.literal('Ed25519'),
  x: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'x must be a base64url 32-byte Ed25519 public key'),
  kid: z.string().min(1).optional(),
});
const fileJwk = publicJwk.extend({
  d: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'd must be a base64url 32-byte Ed25519 private key').optional(),
});
const keyFileSchema = z.object({ keys: z.array(fileJwk).min(1) }).refine((f) => f.keys.filter((k) => k.d).length === 1, {
  message: 'exactly one key must carry its private part d (the active key)',
});

/** A public key as published in the JWKS. */
export interface PublicJwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  kid: string;
  alg: 'EdDSA';
  use: 'sig';
}

export interface KeySet {
  active: { kid: string; privateKey: KeyObject; publicJwk: PublicJwk };
  /** Every public key in the file, the active one first. */
  publicKeys: PublicJwk[];
}

/** RFC 7638 JWK thumbprint of an OKP key: SHA-256 over {"crv","kty","x"}, base64url. */
export function jwkThumbprint(jwk: { crv: string; kty: string; x: string }): string {
  return createHash('sha256').update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x })).digest('base64url');
}

function toPublic(jwk: { x: string }): PublicJwk {
  const base = { kty: 'OKP', crv: 'Ed25519', x: jwk.x } as const;
  return { ...base, kid: jwkThumbprint(base), alg: 'EdDSA', use: 'sig' };
}

function generateJwk(): z.infer<typeof fileJwk> {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' }) as { x: string; d: string };
  return { ...toPublic(jwk), d: jwk.d };
}

export class KeyFileError extends Error {
  constructor(file: string, reason: string) {
    super(`signing key file ${file}: ${reason}`);
    this.name = 'KeyFileError';
  }
}

/** Parses the key file's text; the error names the file and the reason, never key material. */
export function parseKeySet(file: string, text: string): KeySet {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new KeyFileError(file, 'not JSON');
  }
  // A bare private JWK is accepted as a set of one.
  const parsed = keyFileSchema.safeParse(json && typeof json === 'object' && !('keys' in json) ? { keys: [json] } : json);
  if (!parsed.success) throw new KeyFileError(file, parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; '));
  const activeJwk = parsed.data.keys.find((k) => k.d)!;
  const active = toPublic(activeJwk);
  const privateKey = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', x: activeJwk.x, d: activeJwk.d! }, format: 'jwk' });
  const derivedX = (privateKey.export({ format: 'jwk' }) as { x: string }).x;
  if (derivedX !== activeJwk.x) throw new KeyFileError(file, 'the active key\'s x does not belong to its d');
  const others = parsed.data.keys.filter((k) => !k.d).map(toPublic).filter((k) => k.kid !== active.kid);
  return { active: { kid: active.kid, privateKey, publicJwk: active }, publicKeys: [active, ...others] };
}

/** Writes `text` to `file` through a 0600 temporary file and a rename, so a reader never sees half a key set. */
function writeSecret(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/** Reads the key file, creating it (mode 0600, one fresh Ed25519 key) when absent. */
export function loadOrCreateKeyFile(file: string): { keys: KeySet; created: boolean } {
  if (!existsSync(file)) {
    const text = `${JSON.stringify({ keys: [generateJwk()] }, null, 2)}\n`;
    // First start: the data dir (the default home of the key) may not exist yet.
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    try {
      // 'wx': two nodes starting at once on a shared volume must not both create a key.
      const fd = openSync(file, 'wx', 0o600);
      try {
        writeSync(fd, text);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      return { keys: parseKeySet(file, text), created: true };
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') throw err;
    }
  }
  return { keys: parseKeySet(file, readFileSync(file, 'utf8')), created: false };
}

/**
 * Rotation: a fresh key becomes active; the old active key stays in the file without its
 * private part. Returns the kids. Running gateways pick the new key up at their next signature.
 */
export function rotateKeyFile(file: string): { activeKid: string; retiredKid: string } {
  const text = readFileSync(file, 'utf8');
  const current = parseKeySet(file, text);
  const fresh = generateJwk();
  const keys = [fresh, ...current.publicKeys.map(({ kty, crv, x, kid }) => ({ kty, crv, x, kid }))];
  writeSecret(file, `${JSON.stringify({ keys }, null, 2)}\n`);
  return { activeKid: toPublic(fresh).kid, retiredKid: current.active.kid };
}
