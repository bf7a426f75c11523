import { sql } from 'kysely';
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/clock.js';
import { createLogger } from '../../../src/log.js';
import { RawMqtt, counterValues } from '../../support/fuzz.js';
import { startTestGateway, TEST_ADMIN_KEY, type TestGateway } from '../../support/gateway.js';
import { connectDevice, heartbeat } from '../../support/mqtt-devices.js';
import { seedContract, type SeededContract } from '../../support/seed.js';

/**
 * API security (issue item 5) and metrics (item 6): helmet headers, body limit, the auth
 * failure throttle, keys and tokens stored hashed, supplier isolation (including list filters
 * and CSV export), audit entries for every decision, token/key rotation, and no secret in any
 * log line at trace level.
 */
const logLines: string[] = [];
const sink = new Writable({
  write(chunk, _enc, done) {
    logLines.push(chunk.toString());
    done();
  },
});

let gw: TestGateway;
let clock: VirtualClock;
let a: SeededContract;
let b: SeededContract;
let supplierKeyA: string;
const secrets: string[] = [TEST_ADMIN_KEY];

beforeAll(async () => {
  clock = new VirtualClock('2020-10-20T09:00:00+08:00');
  gw = await startTestGateway({
    clock,
    log: createLogger({ level: 'trace', destination: sink }),
    env: { GATEWAY_API_AUTH_FAILURES: '5', GATEWAY_API_AUTH_WINDOW_S: '60', GATEWAY_API_AUTH_BAN_SECONDS: '120', GATEWAY_RAW_RETENTION_DAYS: '30' },
  });
  a = await seedContract(gw, { devices: 2, supplierName: 'Supplier A' });
  b = await seedContract(gw, { devices: 2, supplierName: 'Supplier B' });
  supplierKeyA = (await gw.json('/v1/api-keys', { body: { role: 'supplier', supplierId: a.supplierId } })).key;
  secrets.push(supplierKeyA, ...a.devices.map((d) => d.token), ...b.devices.map((d) => d.token));
});
afterAll(async () => gw?.close());

/** A request from a chosen loopback source address (the throttle is per address). */
function from(localAddress: string, path: string, key?: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: gw.gateway.httpPort, path, localAddress, headers: key ? { authorization: `Bearer ${key}` } : {} }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTP hardening', () => {
  it('sends helmet security headers and no x-powered-by, on pages, API answers and errors alike', async () => {
    for (const [path, key] of [['/healthz', null], ['/v1/me', TEST_ADMIN_KEY], ['/v1/nope', TEST_ADMIN_KEY], ['/v1/me', null]] as const) {
      const res = await gw.api(path, { key });
      expect(res.headers.get('content-security-policy'), path).toContain("default-src 'self'");
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      expect(res.headers.get('x-powered-by')).toBeNull();
    }
  });

  it('answers an oversized body with 413 problem+json, before parsing it', async () => {
    const res = await gw.api('/v1/suppliers', { body: JSON.stringify({ name: 'x'.repeat(3 * 1024 * 1024), kind: 'other' }) });
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await res.json()).toMatchObject({ status: 413, code: 'GW_ERR_API_BODY_TOO_LARGE' });
  });

  it('throttles an address after repeated bad API keys: 429 with Retry-After for bad keys, a good key still works, others unaffected', async () => {
    const attacker = '127.0.0.77';
    for (let i = 0; i < 5; i++) {
      const bad = `gk_guess${i}${'x'.repeat(30)}`;
      secrets.push(bad);
      expect((await from(attacker, '/v1/me', bad)).status).toBe(401);
    }
    const blocked = await from(attacker, '/v1/me', `gk_guess_next${'x'.repeat(30)}`);
    expect(blocked.status).toBe(429);
    expect(blocked.headers['retry-after']).toBe('120');
    expect(blocked.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(blocked.body)).toMatchObject({ status: 429, code: 'GW_ERR_AUTH_THROTTLED' });
    // Key-less requests (health, metrics, the page) and other addresses go on.
    expect((await from(attacker, '/healthz')).status).toBe(200);
    expect((await from(attacker, '/v1/me', TEST_ADMIN_KEY)).status).toBe(200);
    expect((await from('127.0.0.78', '/v1/me', TEST_ADMIN_KEY)).status).toBe(200);
    const metrics = await (await gw.api('/metrics')).text();
    expect(counterValues(metrics, 'gateway_bans_total').get('reason="api-auth-failures"')).toBe(1);
    expect(counterValues(metrics, 'gateway_api_auth_failures_total').get('')).toBeGreaterThanOrEqual(5);
    clock.advance(120_000);
    expect((await from(attacker, '/v1/me', `gk_guess_last${'x'.repeat(30)}`)).status).toBe(401);
  });

  it('stores API keys and device tokens only as SHA-256 digests', async () => {
    const registryDb = gw.gateway.sql;
    const keyRow = await registryDb.one(sql`SELECT * FROM api_keys WHERE key_sha256 = ${createHash('sha256').update(supplierKeyA).digest()}`);
    expect(keyRow).toBeDefined();
    const tokenRow = await registryDb.one<{ token_sha256: Buffer }>(sql`SELECT * FROM devices WHERE id = ${a.devices[0]!.id}`);
    expect(tokenRow!.token_sha256).toEqual(createHash('sha256').update(a.devices[0]!.token).digest());
    let bytes: Buffer;
    if (registryDb.dialect === 'sqlite') {
      const db: Database.Database = gw.gateway.db;
      db.pragma('wal_checkpoint(TRUNCATE)');
      const files = ['gateway.db', 'gateway.db-wal'].map((f) => join(gw.dataDir, f)).filter(existsSync);
      bytes = Buffer.concat(files.map((f) => readFileSync(f)));
    } else {
      // PostgreSQL: every row of every table, as text.
      const tables = await registryDb.all<{ name: string }>(sql`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'`);
      const texts = await Promise.all(tables.map((t) => registryDb.one<{ text: string | null }>(sql`SELECT string_agg(r::text, '') AS text FROM ${sql.table(t.name)} r`)));
      bytes = Buffer.from(texts.map((t) => t?.text ?? '').join(''));
      expect(tables.length).toBeGreaterThan(10);
    }
    for (const secret of secrets) expect(bytes.includes(Buffer.from(secret)), `plaintext secret in the database`).toBe(false);
  });
});

describe('supplier isolation', () => {
  const other = () => b.contractId;
  it.each([
    ['GET', () => `/v1/contracts/${other()}`],
    ['GET', () => `/v1/contracts/${other()}/verification`],
    ['GET', () => `/v1/contracts/${other()}/devices`],
    ['GET', () => `/v1/devices/${b.devices[0]!.id}`],
    ['PATCH', () => `/v1/devices/${b.devices[0]!.id}`],
    ['POST', () => `/v1/devices/${b.devices[0]!.id}/token`],
    ['POST', () => `/v1/contracts/${other()}/devices`],
    ['GET', () => `/v1/suppliers/${b.supplierId}`],
  ] as const)("answers 404 for another supplier's resource: %s %s", async (method, path) => {
    const body = method === 'PATCH' ? { enabled: false } : method === 'POST' && path().endsWith('/devices') ? { devices: [{ serial: 'X-1' }] } : undefined;
    const res = await gw.api(path(), { method, key: supplierKeyA, ...(body ? { body } : {}) });
    expect(res.status).toBe(404);
  });

  it("answers 404 for another supplier's CSV export, and the own CSV holds only own devices", async () => {
    const theirs = await gw.api(`/v1/contracts/${b.contractId}/verification`, { key: supplierKeyA, headers: { accept: 'text/csv' } });
    expect(theirs.status).toBe(404);
    const mine = await gw.api(`/v1/contracts/${a.contractId}/verification`, { key: supplierKeyA, headers: { accept: 'text/csv' } });
    expect(mine.status).toBe(200);
    const csv = await mine.text();
    for (const d of b.devices) expect(csv).not.toContain(d.id);
    for (const d of a.devices) expect(csv).toContain(d.id);
  });

  it('never lists another supplier through list routes or filters', async () => {
    const all = await gw.json('/v1/contracts', { key: supplierKeyA });
    expect(all.items.map((c: { id: string }) => c.id)).toEqual([a.contractId]);
    const filtered = await gw.json(`/v1/contracts?supplierId=${b.supplierId}`, { key: supplierKeyA });
    expect(filtered).toMatchObject({ items: [], total: 0 });
    const byEnterprise = await gw.json(`/v1/contracts?enterpriseId=${b.enterpriseId}`, { key: supplierKeyA });
    expect(byEnterprise.total).toBe(0);
    const suppliers = await gw.json('/v1/suppliers', { key: supplierKeyA });
    expect(suppliers.items.map((s: { id: string }) => s.id)).toEqual([a.supplierId]);
    expect((await gw.api('/v1/audit', { key: supplierKeyA })).status).toBe(403);
    expect((await gw.api('/v1/enterprises', { key: supplierKeyA })).status).toBe(403);
  });
});

describe('rotation and audit', () => {
  it('rotates a device token: the old one is refused at CONNECT, the new one works, and it is audited', async () => {
    const device = a.devices[1]!;
    // A session opened with the old token (say, by whoever leaked it) is closed by the rotation.
    const leaked = await connectDevice(gw.mqttPort, device);
    const leakedClosed = new Promise<void>((resolve) => leaked.once('close', () => resolve()));
    const rotated = await gw.json(`/v1/devices/${device.id}/token`, { method: 'POST', key: supplierKeyA });
    await leakedClosed;
    leaked.end(true);
    secrets.push(rotated.token);
    expect(rotated.token).not.toBe(device.token);
    await expect(connectDevice(gw.mqttPort, device)).rejects.toThrow(/Bad username or password/);
    const client = await connectDevice(gw.mqttPort, { id: device.id, token: rotated.token });
    await heartbeat(client, device.id, { seq: 1 });
    await client.endAsync();
    const audit = await gw.json(`/v1/audit?subject=${device.id}&action=device.token.rotate`);
    expect(audit.items).toHaveLength(1);
    expect(JSON.stringify(audit)).not.toContain(rotated.token);
  });

  it('closes the live session of a device that is disabled', async () => {
    const device = b.devices[1]!;
    const client = await connectDevice(gw.mqttPort, device);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    await gw.json(`/v1/devices/${device.id}`, { method: 'PATCH', body: { enabled: false } });
    await closed;
    client.end(true);
    await expect(connectDevice(gw.mqttPort, device)).rejects.toThrow(/Not authorized/);
    await gw.json(`/v1/devices/${device.id}`, { method: 'PATCH', body: { enabled: true } });
  });

  it('rotates an API key by issuing a new one and revoking the old: the old key is refused', async () => {
    const old = await gw.json('/v1/api-keys', { body: { role: 'reviewer' } });
    const fresh = await gw.json('/v1/api-keys', { body: { role: 'reviewer' } });
    secrets.push(old.key, fresh.key);
    expect((await gw.api('/v1/me', { key: old.key })).status).toBe(200);
    expect((await gw.api(`/v1/api-keys/${old.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await gw.api('/v1/me', { key: old.key })).status).toBe(401);
    expect((await gw.api('/v1/me', { key: fresh.key })).status).toBe(200);
  });

  it('records an audit entry for every decision', async () => {
    await gw.json(`/v1/suppliers/${a.supplierId}/quota`, { method: 'PUT', body: { quotaFen: 900_000_000 } });
    await gw.json('/v1/programs/2020/quotas/cities/440600', { method: 'PUT', body: { quotaFen: null } });
    await gw.json(`/v1/devices/${a.devices[0]!.id}`, { method: 'PATCH', body: { enabled: false } });
    await gw.json(`/v1/devices/${a.devices[0]!.id}`, { method: 'PATCH', body: { enabled: true } });
    await gw.json(`/v1/contracts/${a.contractId}/redemption`, {
      body: { invoiceAmountFen: 10_000_000, paidAmountFen: 10_000_000, acceptanceReport: true },
    });
    const actions = new Set<string>();
    let cursor: string | null = null;
    do {
      const page: { items: { action: string }[]; nextCursor: string | null } = await gw.json(`/v1/audit?limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
      for (const e of page.items) actions.add(e.action);
      cursor = page.nextCursor;
    } while (cursor);
    for (const action of [
      'supplier.create',
      'enterprise.create',
      'contract.create',
      'device.register',
      'api-key.create',
      'api-key.revoke',
      'device.token.rotate',
      'device.disable',
      'device.enable',
      'supplier.quota.set',
      'program.city-quota.set',
      'redemption.decide',
      'security.ban',
    ]) {
      expect(actions, action).toContain(action);
    }
  });
});

describe('metrics and logs', () => {
  it('exposes every required metric at /metrics in Prometheus text format', async () => {
    const bad = await RawMqtt.connect(gw.mqttPort, { clientId: a.devices[0]!.id, username: a.devices[0]!.id, password: 'wrong-token-0123456789' });
    secrets.push('wrong-token-0123456789');
    expect(bad.rc).toBe(4);
    await gw.json(`/v1/contracts/${a.contractId}/verification`);
    const res = await gw.api('/metrics');
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    for (const name of [
      'gateway_mqtt_connections',
      'gateway_heartbeats_accepted_total',
      'gateway_heartbeats_rejected_total',
      'gateway_commit_batch_size',
      'gateway_commit_seconds',
      'gateway_verification_seconds',
      'gateway_mqtt_auth_failures_total',
      'gateway_api_auth_failures_total',
      'gateway_bans_total',
      'gateway_mqtt_connections_refused_total',
    ]) {
      expect(text, name).toMatch(new RegExp(`^# TYPE ${name} (counter|gauge|histogram)$`, 'm'));
    }
    // Observed by now: a wrong-token CONNECT, a verification, the throttle's ban, commits.
    expect(counterValues(text, 'gateway_mqtt_auth_failures_total').get('reason="bad-token"')).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/^gateway_verification_seconds_count [1-9]/m);
    expect(text).toMatch(/^gateway_commit_batch_size_count [1-9]/m);
  });

  it('never writes a token or key to the log, even at trace level', async () => {
    // A failing API call with the key in a header, a failing CONNECT with a token: both logged.
    const wrong = 'gk_wrong_key_that_must_not_be_logged_000000';
    secrets.push(wrong);
    expect((await gw.api('/v1/me', { key: wrong })).status).toBe(401);
    const all = logLines.join('');
    expect(all.length).toBeGreaterThan(1000);
    expect(all).toContain('MQTT CONNECT refused');
    for (const secret of secrets) expect(all.includes(secret), `secret ${secret.slice(0, 6)}… in the log`).toBe(false);
  });
});
