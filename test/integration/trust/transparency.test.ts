import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as jose from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../../src/cli/main.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { leaf, mth, path, proof } from '../../support/rfc9162-oracle.js';
import { seedContract, type SeededContract } from '../../support/seed.js';

let gw: TestGateway;
let contract: SeededContract;
let work: string;

beforeAll(async () => {
  gw = await startTestGateway();
  contract = await seedContract(gw, { devices: 3, catalogId: 25, contractAmountFen: 200_000 });
  work = mkdtempSync(join(tmpdir(), 'gw-audit-'));
});
afterAll(async () => {
  await gw?.close();
  rmSync(work, { recursive: true, force: true });
});

async function cli(args: string[]) {
  const lines: string[] = [];
  const code = await run(args, (s) => lines.push(s));
  return { code, output: lines.join('\n') };
}

/** Every entry's bytes, from the API, in leaf order. */
async function allEntries(): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (;;) {
    const { entries } = await gw.json<{ entries: Array<{ leafIndex: number; entry: string }> }>(`/v1/audit/entries?from=${out.length}&limit=1000`);
    if (entries.length === 0) return out;
    for (const e of entries) {
      expect(e.leafIndex).toBe(out.length);
      out.push(Buffer.from(e.entry, 'base64'));
    }
  }
}

const jwks = async () => jose.createLocalJWKSet(await gw.json('/.well-known/jwks.json', { key: null }));
const hex = (hs: Buffer[]) => hs.map((h) => h.toString('hex'));

describe('signed tree head and proofs', () => {
  it('signs a tree head whose root the RFC recomputes from the entry bytes', async () => {
    const head = await gw.json('/v1/audit/tree-head', { key: null });
    const { payload, protectedHeader } = await jose.compactVerify(head.jws, await jwks(), { algorithms: ['EdDSA'] });
    const signed = JSON.parse(new TextDecoder().decode(payload));
    expect(signed).toEqual({ treeSize: head.treeSize, rootHash: head.rootHash, timestamp: head.timestamp });
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', kid: head.kid, typ: 'gateway-tree-head+json' });

    const entries = await allEntries();
    expect(entries.length).toBe(head.treeSize);
    expect(head.treeSize).toBeGreaterThanOrEqual(4); // supplier, enterprise, contract, device registration, admin key
    expect(mth(entries).toString('hex')).toBe(head.rootHash);
    // Entry bytes are the audit rows: the JSON says who did what.
    const actions = entries.map((e) => JSON.parse(e.toString('utf8')).action);
    expect(actions).toEqual(expect.arrayContaining(['supplier.create', 'contract.create', 'device.register']));
  });

  it('returns RFC inclusion proofs with the entry bytes for every leaf', async () => {
    const entries = await allEntries();
    const n = entries.length;
    for (let m = 0; m < n; m++) {
      const p = await gw.json(`/v1/audit/proof/inclusion?index=${m}&treeSize=${n}`);
      expect(Buffer.from(p.entry, 'base64').equals(entries[m]!)).toBe(true);
      expect(p.leafHash).toBe(leaf(entries[m]!).toString('hex'));
      expect(p.auditPath).toEqual(hex(path(m, entries)));
    }
  });

  it('returns RFC consistency proofs as the log grows, and verify-log accepts them', async () => {
    const savedText = await (await gw.api('/v1/audit/tree-head', { key: null })).text();
    const saved = JSON.parse(savedText);
    writeFileSync(join(work, 'saved-head.json'), savedText);
    await seedContract(gw, { devices: 2, catalogId: 25, contractAmountFen: 100_000 });
    const current = await gw.json('/v1/audit/tree-head', { key: null });
    expect(current.treeSize).toBeGreaterThan(saved.treeSize);
    const entries = await allEntries();
    for (let m = 1; m <= current.treeSize; m++) {
      const c = await gw.json(`/v1/audit/proof/consistency?from=${m}&to=${current.treeSize}`, { key: null });
      expect(c.consistencyPath, `from ${m}`).toEqual(hex(proof(m, entries)));
    }
    const { code, output } = await cli(['verify-log', '--from', join(work, 'saved-head.json'), '--url', gw.httpUrl, '--save', join(work, 'next-head.json')]);
    expect(output).toContain('CONSISTENT');
    expect(code).toBe(0);
  });

  it('refuses proofs beyond the log with a clear reason', async () => {
    const { treeSize } = await gw.json('/v1/audit/tree-head', { key: null });
    const res = await gw.api(`/v1/audit/proof/inclusion?index=0&treeSize=${treeSize + 1}`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'GW_ERR_AUDIT_PROOF_RANGE', detail: expect.stringContaining(`beyond the log's ${treeSize}`) });
    expect((await gw.api(`/v1/audit/proof/consistency?from=3&to=2`, { key: null })).status).toBe(400);
    expect((await gw.api(`/v1/audit/proof/inclusion?index=x&treeSize=2`)).status).toBe(400);
    expect((await gw.api(`/v1/audit/proof/inclusion?index=0&treeSize=1`, { key: null })).status).toBe(401);
  });
});

describe('signed reports', () => {
  const reportJws = async () => {
    const res = await gw.api(`/v1/contracts/${contract.contractId}/verification`, { headers: { accept: 'application/jose' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/jose/);
    const digest = res.headers.get('x-report-digest');
    expect(res.headers.get('content-disposition')).toContain(`verification-${contract.contractId}-${digest!.slice(7, 19)}.jws`);
    return { jws: await res.text(), digest };
  };

  it('returns the report as a compact EdDSA JWS naming the current tree head', async () => {
    const { jws, digest } = await reportJws();
    const json = await gw.json(`/v1/contracts/${contract.contractId}/verification`);
    const head = await gw.json('/v1/audit/tree-head', { key: null });
    const { payload, protectedHeader } = await jose.compactVerify(jws, await jwks(), { algorithms: ['EdDSA'] });
    const report = JSON.parse(new TextDecoder().decode(payload));
    expect(report).toEqual(json);
    expect(report.digest).toBe(digest);
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', kid: head.kid, typ: 'gateway-report+json', treeHead: { treeSize: head.treeSize, rootHash: head.rootHash } });
  });

  it('names the CSV export after the report digest, which its #digest row also carries', async () => {
    const res = await gw.api(`/v1/contracts/${contract.contractId}/verification`, { headers: { accept: 'text/csv' } });
    const digest = res.headers.get('x-report-digest')!;
    expect(res.headers.get('content-disposition')).toContain(`verification-${contract.contractId}-${digest.slice(7, 19)}.csv`);
    expect(await res.text()).toContain(`#digest,${digest}`);
  });

  it('verify-report accepts the signed report and rejects a changed body or an unknown key', async () => {
    const { jws } = await reportJws();
    writeFileSync(join(work, 'report.jws'), jws);
    writeFileSync(join(work, 'jwks.json'), JSON.stringify(await gw.json('/.well-known/jwks.json', { key: null })));
    const good = await cli(['verify-report', join(work, 'report.jws'), '--jwks', join(work, 'jwks.json')]);
    expect(good.output).toContain('signature valid');
    expect(good.output).toContain(contract.contractId);
    expect(good.code).toBe(0);
    // And against the live JWKS URL.
    expect((await cli(['verify-report', join(work, 'report.jws'), '--jwks', `${gw.httpUrl}/.well-known/jwks.json`])).code).toBe(0);

    // A changed body under the original signature: more active devices than were seen.
    const [h, p, s] = jws.split('.');
    const forged = { ...JSON.parse(Buffer.from(p!, 'base64url').toString()), activeDevices: 3, passed: true };
    const tampered = `${h}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${s}`;
    await expect(jose.compactVerify(tampered, await jwks())).rejects.toThrow(/signature verification failed/);
    writeFileSync(join(work, 'tampered.jws'), tampered);
    const bad = await cli(['verify-report', join(work, 'tampered.jws'), '--jwks', join(work, 'jwks.json')]);
    expect(bad).toMatchObject({ code: 1, output: expect.stringMatching(/^INVALID: .*signature verification failed/) });

    // The same report signed by a key the gateway never published.
    const { privateKey } = await jose.generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const foreign = await new jose.CompactSign(Buffer.from(p!, 'base64url'))
      .setProtectedHeader({ alg: 'EdDSA', kid: 'someone-else', typ: 'gateway-report+json' })
      .sign(privateKey);
    await expect(jose.compactVerify(foreign, await jwks())).rejects.toThrow();
    writeFileSync(join(work, 'foreign.jws'), foreign);
    const unknown = await cli(['verify-report', join(work, 'foreign.jws'), '--jwks', join(work, 'jwks.json')]);
    expect(unknown).toMatchObject({ code: 1, output: expect.stringMatching(/^INVALID: .*(no applicable key|matching key)/i) });
  });

  it('signs every redemption decision, naming the tree head that includes its own audit entry', async () => {
    const submitted = await gw.json(`/v1/contracts/${contract.contractId}/redemption-applications`, {
      body: {
        invoiceNumber: 'INV-TRUST-1',
        invoiceAmountFen: 200_000,
        invoiceDate: '2020-07-01',
        paymentProofAmountFen: 200_000,
        paymentDate: '2020-07-02',
        paidAmountFen: 200_000,
        acceptanceReport: true,
        acceptanceReportDate: '2020-08-01',
        contractSignedAt: '2020-06-01',
      },
    });
    const decided = await gw.json(`/v1/redemption-applications/${submitted.id}/decision`, {
      body: { decision: 'rejected', reason: 'no device has reported yet' },
    });
    const { payload, protectedHeader } = await jose.compactVerify(decided.signedDecision, await jwks(), { algorithms: ['EdDSA'] });
    const { signedDecision, ...unsigned } = decided;
    expect(JSON.parse(new TextDecoder().decode(payload))).toEqual(unsigned);
    const entries = await allEntries();
    expect(protectedHeader).toMatchObject({ typ: 'gateway-decision+json', treeHead: { treeSize: entries.length, rootHash: mth(entries).toString('hex') } });
    expect(JSON.parse(entries[entries.length - 1]!.toString()).action).toBe('redemption.decide');
    // Read back later, the application carries the same signed form.
    expect((await gw.json(`/v1/redemption-applications/${submitted.id}`)).signedDecision).toBe(signedDecision);
  });
});
