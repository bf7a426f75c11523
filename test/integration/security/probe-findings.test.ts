import mqtt from 'mqtt';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/clock.js';
import { createLogger } from '../../../src/log.js';
import { RawMqtt, counterValues } from '../../support/fuzz.js';
import { startTestGateway, TEST_ADMIN_KEY, type TestGateway } from '../../support/gateway.js';
import { connectDevice } from '../../support/mqtt-devices.js';
import { seedContract, type SeededContract } from '../../support/seed.js';

/**
 * What an outside probe of the running gateway found (issue 15), each replayed the way the
 * probe did it, through the real HTTP stack.
 */
let gw: TestGateway;
let seeded: SeededContract;
const HOSTILE_SERIALS = [`-2+3+cmd|' /C calc'!A0`, '-0x1+HYPERLINK("http://e")'];

beforeAll(async () => {
  gw = await startTestGateway({ clock: new VirtualClock('2020-10-20T09:00:00+08:00') });
  seeded = await seedContract(gw, { devices: 0, serials: [...HOSTILE_SERIALS, 'SN-ok-1'] });
});
afterAll(async () => gw?.close());

describe('CSV export (point 1)', () => {
  it('neutralises serials that start with - and a digit, as it does every formula prefix', async () => {
    const res = await gw.api(`/v1/contracts/${seeded.contractId}/verification`, { headers: { accept: 'text/csv' } });
    expect(res.status).toBe(200);
    const csv = await res.text();
    for (const serial of HOSTILE_SERIALS) {
      const quoted = `'${serial}`;
      expect(csv).toContain(/[",]/.test(quoted) ? `"${quoted.replaceAll('"', '""')}"` : quoted);
      expect(csv).not.toMatch(new RegExp(`(^|,)"?${serial.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replaceAll('"', '""')}`, 'm'));
    }
  });
});

/** Every place the API accepts an instant, with a request that carries it. */
const INSTANT_ROUTES: { name: string; request: (at: string) => { path: string; method?: string; body?: unknown } }[] = [
  { name: 'GET verification ?at=', request: (at) => ({ path: `/v1/contracts/${seeded.contractId}/verification?at=${encodeURIComponent(at)}` }) },
  { name: 'GET contracts ?at=', request: (at) => ({ path: `/v1/contracts?at=${encodeURIComponent(at)}` }) },
  { name: 'GET stats ?at=', request: (at) => ({ path: `/v1/stats?at=${encodeURIComponent(at)}` }) },
  {
    name: 'POST redemption at',
    request: (at) => ({ path: `/v1/contracts/${seeded.contractId}/redemption`, body: { at, invoiceAmountFen: 10_000_000, paidAmountFen: 10_000_000, acceptanceReport: true } }),
  },
  {
    name: 'POST contracts appliedAt',
    request: (at) => ({ path: '/v1/contracts', body: { enterpriseId: seeded.enterpriseId, supplierId: seeded.supplierId, catalogId: 5, contractAmountFen: 10_000_000, appliedAt: at, program: 2020 } }),
  },
  {
    name: 'POST rules/evaluate appliedAt',
    request: (at) => ({
      path: '/v1/rules/evaluate',
      body: { program: 2020, enterprise: { city: '佛山', clusterPilot: false, priorVouchers: [] }, applications: [{ catalogId: 6, contractAmountFen: 25_000_000, appliedAt: at, serviceProviders: 1, bigDataModels: 0, functionModules: 5 }] },
    }),
  },
  {
    name: 'POST rules/allocate submittedAt',
    request: (at) => ({
      path: '/v1/rules/allocate',
      body: { program: 2020, applications: [{ id: 'a', enterpriseCity: '440600', clusterPilot: false, supplierId: 'sup_a', supplierKind: 'other', voucherFen: 600, submittedAt: at }], quotas: { cities: { '440600': 1000 } } },
    }),
  },
];

describe('instants (point 4)', () => {
  const extremes = ['9999-12-31T23:59:59Z', '0001-01-01T00:00:00Z', '1970-01-01T00:00:00Z', '2100-01-01T00:00:00Z'];
  it.each(INSTANT_ROUTES.flatMap((r) => extremes.map((at) => [r.name, at, r] as const)))('%s %s → 400 naming the field and the range', async (_name, at, route) => {
    const { path, body } = route.request(at);
    const res = await gw.api(path, body === undefined ? {} : { body });
    expect(res.status).toBe(400);
    const problem = await res.json();
    expect(problem.code).toMatch(/^GW_ERR_API_INVALID_(QUERY|BODY)$/);
    expect(JSON.stringify(problem.errors)).toMatch(/2000-01-01.*2099-12-31/);
  });

  it.each(INSTANT_ROUTES)('$name accepts an instant inside the range', async (route) => {
    const { path, body } = route.request('2020-10-20T09:00:00+08:00');
    const res = await gw.api(path, body === undefined ? {} : { body });
    expect(res.status, await res.text()).toBeLessThan(300);
  });
});

describe('API keys (point 5)', () => {
  it('refuses to revoke the last live admin key (409), and revokes an admin key while another is left', async () => {
    const keys = await gw.json<{ items: { id: string; role: string; revokedAt: string | null }[] }>('/v1/api-keys');
    const bootstrap = keys.items.find((k) => k.role === 'admin' && k.revokedAt === null)!;
    const last = await gw.api(`/v1/api-keys/${bootstrap.id}`, { method: 'DELETE' });
    expect(last.status).toBe(409);
    expect(await last.json()).toMatchObject({ code: 'GW_ERR_REGISTRY_LAST_ADMIN_KEY' });
    expect((await gw.api('/v1/me')).status).toBe(200);

    const second = await gw.json<{ id: string; key: string }>('/v1/api-keys', { body: { role: 'admin' } });
    expect((await gw.api(`/v1/api-keys/${second.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await gw.api('/v1/me', { key: second.key })).status).toBe(401);
  });

  it('issues keys with an optional expiry that /v1/me and the key list show; an expired key is 401', async () => {
    const now = gw.clock.now();
    const expiresAt = new Date(now + 3_600_000).toISOString();
    const issued = await gw.json<{ id: string; key: string; expiresAt: string | null }>('/v1/api-keys', { body: { role: 'reviewer', expiresAt } });
    expect(Date.parse(issued.expiresAt!)).toBe(Date.parse(expiresAt));
    const me = await gw.json('/v1/me', { key: issued.key });
    expect(Date.parse(me.expiresAt)).toBe(Date.parse(expiresAt));
    expect((await gw.json('/v1/me')).expiresAt).toBeNull();
    const listed = (await gw.json<{ items: { id: string; expiresAt: string | null }[] }>('/v1/api-keys?limit=1000')).items.find((k) => k.id === issued.id);
    expect(Date.parse(listed!.expiresAt!)).toBe(Date.parse(expiresAt));

    (gw.clock as VirtualClock).advance(3_600_000);
    const expired = await gw.api('/v1/me', { key: issued.key });
    expect(expired.status).toBe(401);
    expect((await expired.json()).detail).toMatch(/expired/);
    (gw.clock as VirtualClock).set(now);
  });

  it('refuses an expiry that is not in the future', async () => {
    const res = await gw.api('/v1/api-keys', { body: { role: 'reviewer', expiresAt: new Date(gw.clock.now() - 1000).toISOString() } });
    expect(res.status).toBe(400);
    expect(JSON.stringify((await res.json()).errors)).toContain('body.expiresAt');
  });

  it('refuses to start with a configured GATEWAY_ADMIN_KEY that was revoked, saying how to recover', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gw-revoked-admin-'));
    try {
      const first = await startTestGateway({ dataDir });
      const other = await first.json<{ id: string; key: string }>('/v1/api-keys', { body: { role: 'admin' } });
      const bootstrapId = (await first.json('/v1/me')).keyId as string;
      expect((await first.api(`/v1/api-keys/${bootstrapId}`, { method: 'DELETE', key: other.key })).status).toBe(204);
      await first.close();

      await expect(startTestGateway({ dataDir })).rejects.toThrow(new RegExp(`GATEWAY_ADMIN_KEY.*${bootstrapId}.*revoked.*new value`, 's'));
      // The revoked key stays revoked; the other admin key is untouched; a new value recovers.
      const recovered = await startTestGateway({ dataDir, env: { GATEWAY_ADMIN_KEY: 'a-brand-new-admin-key-0123456789' } });
      expect((await recovered.api('/v1/me', { key: TEST_ADMIN_KEY })).status).toBe(401);
      expect((await recovered.api('/v1/me', { key: other.key })).status).toBe(200);
      expect((await recovered.api('/v1/me', { key: 'a-brand-new-admin-key-0123456789' })).status).toBe(200);
      const audit = await recovered.json('/v1/audit?limit=1000', { key: other.key });
      expect(audit.items.map((e: { action: string }) => e.action)).not.toContain('api-key.reinstate');
      await recovered.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('flood control: an unauthenticated neighbour, honest NATs (point 3)', () => {
  let fgw: TestGateway;
  let clock: VirtualClock;
  let fleet: SeededContract;

  beforeAll(async () => {
    clock = new VirtualClock('2020-10-20T09:00:00+08:00');
    fgw = await startTestGateway({ clock }); // the defaults the probe met
    fleet = await seedContract(fgw, { devices: 2 });
  });
  afterAll(async () => fgw?.close());

  async function metric(name: string, labels: string): Promise<number> {
    return counterValues(await fgw.gateway.metrics.registry.metrics(), name).get(labels) ?? 0;
  }

  it('1,000 bad-token CONNECTs from one address: the honest device behind it still connects; evidence rows capped per device and minute, the rest counted', async () => {
    const nat = '127.0.3.1';
    const victim = fleet.devices[0]!;
    const rowsBefore = (fgw.gateway.db.prepare("SELECT count(*) AS n FROM evidence_connection WHERE kind = 'auth-failed'").get() as { n: number }).n;
    const codes = new Map<number, number>();
    for (let i = 0; i < 1000; i++) {
      const { client, rc } = await RawMqtt.connect(fgw.mqttPort, { clientId: victim.id, username: victim.id, password: 'f'.repeat(32) }, { localAddress: nat });
      codes.set(rc, (codes.get(rc) ?? 0) + 1);
      client.destroy();
    }
    expect([...codes.keys()].every((rc) => rc !== 0)).toBe(true);
    expect(await metric('gateway_bans_total', 'reason="auth-failures"')).toBe(1);

    clock.advance(1_000); // a reconnecting device's back-off
    const honest = await connectDevice(fgw.mqttPort, victim, { localAddress: nat });
    await honest.endAsync();
    const other = await connectDevice(fgw.mqttPort, fleet.devices[1]!, { localAddress: nat });
    await other.endAsync();

    await new Promise((r) => setTimeout(r, 1_200)); // evidence is flushed once a second
    const evidence = createEvidenceReader(fgw);
    const rows = evidence.authFailedRows(victim.id);
    expect(rows - rowsBefore).toBeLessThanOrEqual(10);
    expect(rows - rowsBefore).toBeGreaterThan(0);
    expect(evidence.unrecorded(victim.id)).toBe(1000 - (rows - rowsBefore));
    expect(await metric('gateway_mqtt_auth_failures_total', 'reason="bad-token"')).toBe(1000);
  });

  it('a valid API key still works from an address throttled for bad keys; bad keys from it get 429', async () => {
    const neighbour = '127.0.3.2';
    for (let i = 0; i < 10; i++) expect((await httpFrom(fgw, neighbour, '/v1/me', `gk_guess${i}${'x'.repeat(30)}`)).status).toBe(401);
    expect((await httpFrom(fgw, neighbour, '/v1/me', `gk_guess_more${'x'.repeat(30)}`)).status).toBe(429);
    expect((await httpFrom(fgw, neighbour, '/v1/me', TEST_ADMIN_KEY)).status).toBe(200);
  });
});

describe('flood control: a reconnect storm from one address converges (point 3)', () => {
  const DEVICES = 300;
  let sgw: TestGateway;
  let clock: VirtualClock;
  let fleet: SeededContract;

  beforeAll(async () => {
    clock = new VirtualClock('2020-10-20T09:00:00+08:00');
    // The probe's 3,000 devices against 1,000 per minute, scaled down tenfold (full size: bench nat-storm).
    sgw = await startTestGateway({ clock, env: { GATEWAY_CONN_RATE_PER_ADDR: '100', GATEWAY_CONN_RATE_WINDOW_S: '60', GATEWAY_CONN_BURST_PER_ADDR: '100', GATEWAY_FLAP_CONNECTS: '0' } });
    fleet = await seedContract(sgw, { devices: DEVICES });
  });
  afterAll(async () => sgw?.close());

  it(`${DEVICES} honest devices behind one NAT address all end up connected, none banned`, async () => {
    const nat = '127.0.3.3';
    const clients = fleet.devices.map(
      (d) =>
        new mqtt.MqttClient(() => net.createConnection({ port: sgw.mqttPort, host: '127.0.0.1', localAddress: nat }), {
          clientId: d.id,
          username: d.id,
          password: d.token,
          reconnectPeriod: 100,
          connectTimeout: 5_000,
        }),
    );
    try {
      for (const c of clients) c.on('error', () => undefined); // refused at accept: ECONNRESET, then a retry
      // Virtual time runs 20x faster than real time; 200 more devices need 2 virtual minutes of refill.
      const deadline = clock.now() + 10 * 60_000;
      while (clients.some((c) => !c.connected) && clock.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        clock.advance(1_000);
      }
      expect(clients.filter((c) => c.connected)).toHaveLength(DEVICES);
      const text = await sgw.gateway.metrics.registry.metrics();
      expect(counterValues(text, 'gateway_bans_total').size).toBe(0);
      expect(counterValues(text, 'gateway_mqtt_connections_refused_total').get('reason="rate-limited"')).toBeGreaterThan(0);
    } finally {
      await Promise.all(clients.map((c) => c.endAsync(true)));
    }
  });
});

/** One HTTP request from a chosen loopback source address. */
function httpFrom(target: TestGateway, localAddress: string, path: string, key?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: target.gateway.httpPort, path, localAddress, headers: key ? { authorization: `Bearer ${key}` } : {} }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The stored evidence of auth failures, read from the gateway's own file. */
function createEvidenceReader(target: TestGateway) {
  const db = target.gateway.db;
  return {
    authFailedRows: (deviceId: string) =>
      (db.prepare("SELECT count(*) AS n FROM evidence_connection WHERE kind = 'auth-failed' AND device_id = ?").get(deviceId) as { n: number }).n,
    unrecorded: (deviceId: string) =>
      (db.prepare("SELECT coalesce(sum(count), 0) AS n FROM evidence_rejection WHERE reason = 'auth-failed-unrecorded' AND device_id = ?").get(deviceId) as { n: number }).n,
  };
}

describe('MQTT edges (point 6)', () => {
  const logLines: string[] = [];
  let mgw: TestGateway;
  let clock: VirtualClock;
  let fleet: SeededContract;

  beforeAll(async () => {
    clock = new VirtualClock('2020-10-20T09:00:10+08:00');
    const sink = new Writable({
      write(chunk, _enc, done) {
        logLines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    mgw = await startTestGateway({ clock, log: createLogger({ level: 'trace', destination: sink }) });
    fleet = await seedContract(mgw, { devices: 2 });
  });
  afterAll(async () => mgw?.close());

  it.each([7_000, 65])('refuses a %i-character client id with CONNACK 2 before authentication, and logs no more than 64 of it', async (length) => {
    const id = `x${'y'.repeat(length - 2)}z`;
    const failuresBefore = counterValues(await mgw.gateway.metrics.registry.metrics(), 'gateway_mqtt_auth_failures_total');
    const from = logLines.length;
    // A short username keeps the packet under the 8 KiB guard, so the id itself is what is judged.
    const { client, rc } = await RawMqtt.connect(mgw.mqttPort, { clientId: id, username: 'u', password: 'whatever-0123456789' });
    expect(rc).toBe(2); // identifier rejected [MQTT-3.1.3-9]
    await client.closed;
    const text = await mgw.gateway.metrics.registry.metrics();
    expect(counterValues(text, 'gateway_mqtt_auth_failures_total')).toEqual(failuresBefore); // never reached authentication
    expect(counterValues(text, 'gateway_mqtt_connections_refused_total').get('reason="client-id-too-long"')).toBeGreaterThan(0);
    const lines = logLines.slice(from);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line.length, line.slice(0, 200)).toBeLessThan(1_000);
      expect(line).not.toContain('y'.repeat(64));
    }
  });

  it('still authenticates a 64-character id, the documented limit, and logs it whole', async () => {
    const id = 'q'.repeat(64);
    const from = logLines.length;
    const { client, rc } = await RawMqtt.connect(mgw.mqttPort, { clientId: id, username: id, password: 'whatever-0123456789' });
    expect(rc).toBe(4); // reached authentication: unknown device
    client.destroy();
    expect(logLines.slice(from).some((l) => l.includes(id))).toBe(true);
  });

  it('never stores a will message as a heartbeat, even on the device\'s own heartbeat topic', async () => {
    const device = fleet.devices[0]!;
    const client = await new Promise<mqtt.MqttClient>((resolve, reject) => {
      const c = new mqtt.MqttClient(() => net.createConnection({ port: mgw.mqttPort, host: '127.0.0.1' }), {
        clientId: device.id,
        username: device.id,
        password: device.token,
        reconnectPeriod: 0,
        will: { topic: `v1/devices/${device.id}/heartbeat`, payload: Buffer.from('{"seq": 999}'), qos: 1, retain: false },
      });
      c.once('connect', () => resolve(c));
      c.once('error', reject);
    });
    await client.publishAsync(`v1/devices/${device.id}/heartbeat`, '{"seq": 1}', { qos: 1 });
    clock.advance(10 * 60_000); // the device dies ten minutes later, without a DISCONNECT
    const gone = new Promise((r) => mgw.gateway.broker.aedes.once('clientDisconnect', r));
    client.stream.destroy();
    await gone;
    await new Promise((r) => setTimeout(r, 100));
    await mgw.gateway.flush();
    const [row] = await mgw.gateway.store.dailyActivity([device.id], '2020-10-20', '2020-10-20');
    expect(row).toMatchObject({ heartbeats: 1 });
    const text = await mgw.gateway.metrics.registry.metrics();
    expect(counterValues(text, 'gateway_mqtt_publish_denied_total').get('reason="will"')).toBe(1);
    client.end(true);
  });
});

describe('reports under a relaxed policy (point 2)', () => {
  const RELAXED = 'windowDays=1&minActiveDays=1&minOnlineMinutes=1';
  let supplierKey: string;
  let reviewerKey: string;

  beforeAll(async () => {
    supplierKey = (await gw.json('/v1/api-keys', { body: { role: 'supplier', supplierId: seeded.supplierId } })).key;
    reviewerKey = (await gw.json('/v1/api-keys', { body: { role: 'reviewer' } })).key;
  });

  it('refuses a policy override from a supplier key with 403 and a catalogued code; the default report stays open to it', async () => {
    const res = await gw.api(`/v1/contracts/${seeded.contractId}/verification?${RELAXED}`, { key: supplierKey, headers: { accept: 'text/csv' } });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ status: 403, code: 'GW_ERR_VERIFICATION_POLICY_OVERRIDE' });
    expect((await gw.api(`/v1/contracts/${seeded.contractId}/verification?minOnlineMinutes=1`, { key: supplierKey })).status).toBe(403);
    expect((await gw.api(`/v1/contracts/${seeded.contractId}/verification`, { key: supplierKey })).status).toBe(200);
    expect((await gw.api(`/v1/contracts/${seeded.contractId}/verification?at=2020-10-19T09:00:00%2B08:00`, { key: supplierKey })).status).toBe(200);
  });

  it('states the policy in the JSON report and marks an override, covered by the digest', async () => {
    const plain = await gw.json(`/v1/contracts/${seeded.contractId}/verification`, { key: reviewerKey });
    expect(plain.policy).toMatchObject({ windowDays: 30, minActiveDays: 20, minOnlineMinutes: 60, overridden: false, overrides: [] });
    const relaxed = await gw.json(`/v1/contracts/${seeded.contractId}/verification?${RELAXED}`, { key: reviewerKey });
    expect(relaxed.policy).toMatchObject({ windowDays: 1, minActiveDays: 1, minOnlineMinutes: 1, overridden: true });
    expect(relaxed.policy.overrides).toEqual([
      { parameter: 'windowDays', used: 1, default: 30 },
      { parameter: 'minActiveDays', used: 1, default: 20 },
      { parameter: 'minOnlineMinutes', used: 1, default: 60 },
    ]);
    // The same values as the defaults are no override.
    const same = await gw.json(`/v1/contracts/${seeded.contractId}/verification?windowDays=30`, { key: reviewerKey });
    expect(same.policy.overridden).toBe(false);
  });

  it('states the policy in the CSV export, and an override in rows no reader can miss', async () => {
    const csvOf = async (query: string) => (await gw.api(`/v1/contracts/${seeded.contractId}/verification${query}`, { key: reviewerKey, headers: { accept: 'text/csv' } })).text();
    const plain = await csvOf('');
    expect(plain).toContain('\r\n#policy,program default\r\n');
    expect(plain).toContain('\r\n#policy.windowDays,30\r\n');
    const relaxed = await csvOf(`?${RELAXED}`);
    expect(relaxed.split('\r\n')[0]).toMatch(/^#WHAT-IF: policy overridden/); // before the header, where every reader starts
    expect(relaxed).toContain('\r\n#policy,OVERRIDDEN (what-if; not the program\'s verdict)\r\n');
    expect(relaxed).toContain('\r\n#policy.minOnlineMinutes,1 (default 60)\r\n');
    expect(relaxed).toMatch(/\r\n#passed,(true|false) under the overridden policy\r\n/);
  });
});

describe('files and endpoints (point 7)', () => {
  it('creates the data dir 0700 and the database, -wal and -shm files 0600', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'gw-perms-'));
    const dataDir = join(parent, 'data');
    try {
      const g = await startTestGateway({ dataDir });
      await g.json('/v1/suppliers', { body: { name: 'S', kind: 'platform' } }); // a write: -wal and -shm exist
      expect(statSync(dataDir).mode & 0o777).toBe(0o700);
      for (const file of ['gateway.db', 'gateway.db-wal', 'gateway.db-shm']) {
        expect(existsSync(join(dataDir, file)), file).toBe(true);
        expect((statSync(join(dataDir, file)).mode & 0o777).toString(8), file).toBe('600');
      }
      await g.close();
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });

  it('answers /metrics on the API listener to an admin key only', async () => {
    const supplierKey = (await gw.json('/v1/api-keys', { body: { role: 'supplier', supplierId: seeded.supplierId } })).key;
    expect((await gw.api('/metrics', { key: null })).status).toBe(401);
    expect((await gw.api('/metrics', { key: supplierKey })).status).toBe(403);
    const res = await gw.api('/metrics');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('gateway_mqtt_auth_failures_total');
  });

  it('serves /metrics without a key on GATEWAY_METRICS_PORT, and nothing else there', async () => {
    const g = await startTestGateway({ env: { GATEWAY_METRICS_PORT: '0' } });
    try {
      const port = g.gateway.metricsPort!;
      expect(port).toBeGreaterThan(0);
      expect(port).not.toBe(g.gateway.httpPort);
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await res.text()).toContain('gateway_bans_total');
      for (const path of ['/v1/me', '/healthz', '/', '/metrics/../v1/audit']) expect((await fetch(`http://127.0.0.1:${port}${path}`)).status, path).toBe(404);
    } finally {
      await g.close();
    }
  });

  it('caps HTTP connections per address and closes slow ones at the header timeout; others are served meanwhile', async () => {
    const g = await startTestGateway({ env: { GATEWAY_HTTP_MAX_CONN_PER_ADDR: '20', GATEWAY_HTTP_HEADERS_TIMEOUT_MS: '2000', GATEWAY_HTTP_REQUEST_TIMEOUT_MS: '3000' } });
    const sockets: net.Socket[] = [];
    try {
      const slow = '127.0.4.1';
      for (let i = 0; i < 300; i++) {
        const socket = net.createConnection({ port: g.gateway.httpPort, host: '127.0.0.1', localAddress: slow });
        socket.on('error', () => undefined);
        socket.resume(); // read what the server sends (a 408), so its FIN is seen
        socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n'); // never finishes its headers
        sockets.push(socket);
      }
      await Promise.all(sockets.map((s) => new Promise((r) => (s.connecting ? s.once('connect', r).once('close', r) : r(null)))));
      await new Promise((r) => setTimeout(r, 800));
      const open = () => sockets.filter((s) => !s.destroyed && s.readyState === 'open').length;
      expect(open()).toBeLessThanOrEqual(20);
      expect((await httpFrom(g, '127.0.4.2', '/healthz')).status).toBe(200);
      await new Promise((r) => setTimeout(r, 4_000));
      expect(open()).toBe(0);
      expect((await httpFrom(g, slow, '/healthz')).status).toBe(200);
      const text = await (await g.api('/metrics')).text();
      expect(counterValues(text, 'gateway_http_connections_refused_total').get('reason="per-address-cap"')).toBeGreaterThanOrEqual(280);
    } finally {
      sockets.forEach((s) => s.destroy());
      await g.close();
    }
  }, 30_000);
});
