import { mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as jose from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.js';
import { createSigner, JWS_TYPES, KeyFileError, loadOrCreateKeyFile, rotateKeyFile } from '../../../src/trust/index.js';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gw-keys-'));
  file = join(dir, 'signing-key.jwk');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const jwksOf = (signer: ReturnType<typeof createSigner>) => jose.createLocalJWKSet({ keys: signer.publicKeys() });

describe('signing key file', () => {
  it('is created with mode 0600 holding one Ed25519 key whose kid is its RFC 7638 thumbprint', async () => {
    const signer = createSigner({ file, log: silentLogger });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const set = JSON.parse(readFileSync(file, 'utf8')) as { keys: Array<Record<string, string>> };
    expect(set.keys).toHaveLength(1);
    expect(set.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519' });
    expect(set.keys[0]!.d).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(signer.activeKid()).toBe(await jose.calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: set.keys[0]!.x! }));
    // The published keys never carry the private part.
    expect(JSON.stringify(signer.publicKeys())).not.toContain(set.keys[0]!.d);
  });

  it('signs byte for byte what jose CompactSign produces, and jose verifies it', async () => {
    const signer = createSigner({ file, log: silentLogger });
    const payload = { b: [1, 2, { z: 'é', a: null }], a: 'report' };
    const jws = signer.signJson(payload, JWS_TYPES.report, { treeHead: { treeSize: 3, rootHash: 'ab' } });
    const privateJwk = (JSON.parse(readFileSync(file, 'utf8')) as { keys: jose.JWK[] }).keys[0]!;
    const key = await jose.importJWK({ ...privateJwk, alg: 'EdDSA' }, 'EdDSA');
    const header = JSON.parse(Buffer.from(jws.split('.')[0]!, 'base64url').toString()) as jose.CompactJWSHeaderParameters;
    const bytes = Buffer.from(jws.split('.')[1]!, 'base64url');
    const byJose = await new jose.CompactSign(bytes).setProtectedHeader(header).sign(key);
    expect(jws).toBe(byJose);
    const { payload: out, protectedHeader } = await jose.compactVerify(jws, jwksOf(signer), { algorithms: ['EdDSA'] });
    expect(JSON.parse(new TextDecoder().decode(out))).toEqual(payload);
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', kid: signer.activeKid(), typ: 'gateway-report+json', treeHead: { treeSize: 3 } });
  });

  it('rotates: a new active key, the old one kept public only, old signatures still verify, running signers switch', async () => {
    const signer = createSigner({ file, log: silentLogger });
    const before = signer.signJson({ n: 1 }, JWS_TYPES.decision);
    const oldKid = signer.activeKid();
    const oldD = (JSON.parse(readFileSync(file, 'utf8')) as { keys: Array<{ d: string }> }).keys[0]!.d;
    const { activeKid, retiredKid } = rotateKeyFile(file);
    // Same-second rewrites keep mtime; the stamp also covers inode and size, which a rename changes.
    utimesSync(file, new Date(0), new Date(1000));
    expect(retiredKid).toBe(oldKid);
    expect(activeKid).not.toBe(oldKid);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(oldD);
    expect((JSON.parse(text) as { keys: Array<{ d?: string }> }).keys.filter((k) => k.d)).toHaveLength(1);

    expect(signer.activeKid()).toBe(activeKid);
    const after = signer.signJson({ n: 2 }, JWS_TYPES.decision);
    expect(jose.decodeProtectedHeader(after).kid).toBe(activeKid);
    expect(signer.publicKeys().map((k) => k.kid)).toEqual([activeKid, oldKid]);
    for (const jws of [before, after]) await expect(jose.compactVerify(jws, jwksOf(signer))).resolves.toBeTruthy();
  });

  it('a report signed by a key not in the JWKS fails verification', async () => {
    const signer = createSigner({ file, log: silentLogger });
    const other = createSigner({ file: join(dir, 'other.jwk'), log: silentLogger });
    const jws = other.signJson({ n: 1 }, JWS_TYPES.report);
    await expect(jose.compactVerify(jws, jwksOf(signer))).rejects.toThrow(/no applicable key|matching key/i);
  });

  it('refuses a malformed key file naming the file and the reason, never the key', () => {
    writeFileSync(file, JSON.stringify({ keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'A'.repeat(43) }] }));
    expect(() => loadOrCreateKeyFile(file)).toThrow(KeyFileError);
    expect(() => loadOrCreateKeyFile(file)).toThrow(/signing-key\.jwk.*exactly one key must carry its private part/);
    writeFileSync(file, 'not json');
    expect(() => loadOrCreateKeyFile(file)).toThrow(/not JSON/);
  });
});
