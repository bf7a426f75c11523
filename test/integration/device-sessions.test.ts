/**
 * One session per device across nodes (issue 17): two gateway nodes on one PostgreSQL registry;
 * a device connecting on node B takes its session from node A, as a second CONNECT does on one
 * node [MQTT-3.1.4-2], and the take-over is evidence for SESSION_TAKEOVER.
 */
import type mqtt from 'mqtt';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/clock.js';
import { openSqlDb, type SqlDb } from '../../src/db/sql-db.js';
import { createHeartbeatRateLimit } from '../../src/ingest/heartbeat-rate.js';
import { createLockstepTracker } from '../../src/ingest/lockstep.js';
import { silentLogger } from '../../src/log.js';
import { createRegistry, type Registry } from '../../src/registry/index.js';
import { createHeartbeatAdmission, createSessionCoordinator, SessionSupersededError } from '../../src/services/index.js';
import { createSeqSession } from '../../src/ingest/session.js';
import type { Heartbeat, RejectionReason } from '../../src/telemetry/index.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { connectDevice, heartbeat } from '../support/mqtt-devices.js';
import { clusterNodeEnv, testDatabase } from '../support/postgres.js';
import { seedContract, type SeededDevice } from '../support/seed.js';

async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 5000): Promise<T> {
  for (let waited = 0; ; waited += 25) {
    try {
      return await check();
    } catch (err) {
      if (waited >= timeoutMs) throw err;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

/** Resolves when the client's connection closes (the broker dropped it); rejects after `ms`. */
function closedWithin(client: mqtt.MqttClient, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`connection still open after ${ms} ms`)), ms);
    client.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

async function counter(gw: TestGateway, by: 'notice' | 'reconcile'): Promise<number> {
  const { values } = await gw.gateway.metrics.sessionsTakenOver.get();
  return values.find((v) => v.labels.by === by)?.value ?? 0;
}

describe('one session per device across nodes sharing a PostgreSQL registry', () => {
  const clock = new VirtualClock('2020-10-09T08:00:00+08:00');
  let url: string;
  let admin: pg.Client;
  let a: TestGateway;
  let b: TestGateway;
  const open: mqtt.MqttClient[] = [];
  const env = (node: string, reconcileMs = '600000') => ({
    ...clusterNodeEnv(url, node),
    // Long: in these tests only the notices and the reconcile after a LISTEN reconnect act, unless a test says otherwise.
    GATEWAY_SESSION_RECONCILE_MS: reconcileMs,
  });
  const connect = async (gw: TestGateway, device: SeededDevice, localAddress?: string) => {
    const client = await connectDevice(gw.mqttPort, device, localAddress ? { localAddress } : {});
    open.push(client);
    return client;
  };
  /** A claim that replaced this node's session without a notice reaching it (what a lost notification leaves). */
  const claimSilently = (deviceId: string, node: string, source: string) =>
    admin.query(
      `UPDATE device_sessions SET epoch = epoch + 1, previous_node_id = node_id, node_id = $2, source = $3, connected_at = $4 WHERE device_id = $1`,
      [deviceId, node, source, clock.now()],
    );
  const sessionRow = async (deviceId: string) =>
    (await admin.query<{ epoch: string; node_id: string }>('SELECT epoch, node_id FROM device_sessions WHERE device_id = $1', [deviceId])).rows[0];

  beforeAll(async () => {
    url = await testDatabase('device_sessions');
    a = await startTestGateway({ clock, env: env('node-a') });
    b = await startTestGateway({ clock, env: env('node-b') });
    admin = new pg.Client(url);
    await admin.connect();
  });
  afterAll(async () => {
    await Promise.all(open.map((c) => c.endAsync(true)));
    await admin?.end();
    await a?.close();
    await b?.close();
  });

  it("drops node A's connection when the device connects on node B, and B's session works", async () => {
    const { devices } = await seedContract(a, { devices: 1 });
    const device = devices[0]!;
    const onA = await connect(a, device);
    expect(await sessionRow(device.id)).toEqual({ epoch: '1', node_id: 'node-a' });
    const aClosed = closedWithin(onA, 3000);
    const onB = await connect(b, device);
    await aClosed;
    expect(await sessionRow(device.id)).toEqual({ epoch: '2', node_id: 'node-b' });
    expect(await counter(a, 'notice')).toBe(1);
    // B's session is the device's: its QoS 1 heartbeat is acknowledged and stored.
    await heartbeat(onB, device.id, { seq: 1 });
    await b.gateway.flush();
    const [row] = await b.gateway.store.dailyActivity([device.id], '2020-10-09', '2020-10-09');
    expect(row?.heartbeats).toBe(1);
    expect(onB.connected).toBe(true);
  });

  it('counts each take-over across nodes once, and SESSION_TAKEOVER reads the same through either node', async () => {
    const { contractId, devices } = await seedContract(a, { devices: 1 });
    const device = devices[0]!;
    // A, B, A, B from two addresses: three take-overs, each recorded by the node that dropped its session.
    const nodes = [a, b, a, b];
    for (const [i, node] of nodes.entries()) {
      clock.advance(60_000);
      const previous = open.at(-1);
      const closing = i > 0 ? closedWithin(previous!, 3000) : Promise.resolve();
      await connect(node, device, i % 2 ? '127.0.0.3' : '127.0.0.2');
      await closing;
    }
    await Promise.all([a.gateway.flush(), b.gateway.flush()]);
    const takeovers = async (gw: TestGateway) => {
      const report = await gw.json(`/v1/contracts/${contractId}/verification?at=${encodeURIComponent(new Date(clock.now()).toISOString())}`);
      const signal = report.devices[0].signals.find((s: { code: string }) => s.code === 'SESSION_TAKEOVER');
      return signal?.data;
    };
    const fromA = await takeovers(a);
    expect(fromA).toEqual({ takeovers: 3, sources: ['127.0.0.2', '127.0.0.3'], threshold: 3 });
    expect(await takeovers(b)).toEqual(fromA);
  });

  it('closes a session whose take-over notice was lost at the next periodic reconcile', async () => {
    const c = await startTestGateway({ clock, env: env('node-c', '300') });
    try {
      const { devices } = await seedContract(a, { devices: 1 });
      const device = devices[0]!;
      const onC = await connect(c, device);
      await claimSilently(device.id, 'node-x', '127.0.0.9');
      // Within about one period (300 ms), with room for a loaded test machine.
      await closedWithin(onC, 3000);
      expect(await counter(c, 'reconcile')).toBe(1);
      await c.gateway.flush();
      const rows = await admin.query<{ kind: string; source: string }>(`SELECT kind, source FROM evidence_connection WHERE device_id = $1 AND kind = 'takeover'`, [
        device.id,
      ]);
      expect(rows.rows).toEqual([{ kind: 'takeover', source: '127.0.0.9' }]);
    } finally {
      await c.close();
    }
  });

  it('listens again after its LISTEN connection is terminated, and reconciles what it missed meanwhile', async () => {
    const { devices } = await seedContract(a, { devices: 1 });
    const device = devices[0]!;
    const onA = await connect(a, device);
    const listener = async () =>
      (await admin.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE application_name = 'gateway-sessions:node-a'`)).rows.map((r) => r.pid);
    const [before] = await listener();
    expect(before).toBeDefined();
    // The take-over happens while no LISTEN is in place: its notice is lost.
    await admin.query('SELECT pg_terminate_backend($1)', [before]);
    await claimSilently(device.id, 'node-x', '127.0.0.9');
    // The periodic reconcile is ten minutes away: only the one after the LISTEN came back can close it.
    await closedWithin(onA, 5000);
    const after = await eventually(async () => {
      const pids = await listener();
      expect(pids).toHaveLength(1);
      expect(pids[0]).not.toBe(before);
      return pids[0];
    });
    expect(after).not.toBe(before);
    expect(await counter(a, 'reconcile')).toBe(1);
  });

  it("a token rotated or a device disabled through node B ends its session on node A at once, with no take-over recorded", async () => {
    const { devices } = await seedContract(a, { devices: 2 });
    const [rotated, disabled] = devices as [SeededDevice, SeededDevice];
    const rotatedOnA = await connect(a, rotated);
    const disabledOnA = await connect(a, disabled);
    const noticesBefore = await counter(a, 'notice');
    const rotatedClosed = closedWithin(rotatedOnA, 3000);
    await b.json(`/v1/devices/${rotated.id}/token`, { method: 'POST' });
    await rotatedClosed;
    const disabledClosed = closedWithin(disabledOnA, 3000);
    await b.json(`/v1/devices/${disabled.id}`, { method: 'PATCH', body: { enabled: false } });
    await disabledClosed;
    expect(await counter(a, 'notice')).toBe(noticesBefore + 2);
    expect(await sessionRow(rotated.id)).toEqual({ epoch: '2', node_id: '(revoked)' });
    await a.gateway.flush();
    const takeovers = await admin.query(`SELECT 1 FROM evidence_connection WHERE device_id IN ($1, $2) AND kind = 'takeover'`, [rotated.id, disabled.id]);
    expect(takeovers.rows).toEqual([]);
  });

  it("closes a revoked session at the next reconcile when the revocation's notice was lost", async () => {
    const c = await startTestGateway({ clock, env: env('node-c', '300') });
    try {
      const { devices } = await seedContract(a, { devices: 1 });
      const device = devices[0]!;
      const onC = await connect(c, device);
      // The row revoked without a notice (what a lost notification leaves).
      await admin.query(`UPDATE device_sessions SET epoch = epoch + 1, node_id = '(revoked)' WHERE device_id = $1`, [device.id]);
      await closedWithin(onC, 3000);
      expect(await counter(c, 'reconcile')).toBe(1);
      await c.gateway.flush();
      expect((await admin.query(`SELECT 1 FROM evidence_connection WHERE device_id = $1 AND kind = 'takeover'`, [device.id])).rows).toEqual([]);
    } finally {
      await c.close();
    }
  });

  it('leaves a device that disconnected cleanly without a row, and a node that stops without its rows', async () => {
    const { devices } = await seedContract(a, { devices: 2 });
    const gone = await connect(a, devices[0]!);
    await gone.endAsync();
    await eventually(async () => expect(await sessionRow(devices[0]!.id)).toBeUndefined());
    const d = await startTestGateway({ clock, env: env('node-d') });
    await connect(d, devices[1]!);
    expect((await sessionRow(devices[1]!.id))?.node_id).toBe('node-d');
    await d.close();
    expect(await sessionRow(devices[1]!.id)).toBeUndefined();
  });
});

describe('fencing by epoch', () => {
  const clock = new VirtualClock('2020-10-09T08:00:00+08:00');
  let sql: SqlDb;
  let registry: Registry;

  beforeAll(async () => {
    sql = openSqlDb({ kind: 'postgres', url: await testDatabase('session_fence') });
    registry = await createRegistry({ sql, clock, log: silentLogger });
  });
  afterAll(() => sql.close());

  /** A node's coordinator and heartbeat admission; its connection's `close` only notes the call (packets already read still arrive). */
  function node(nodeId: string) {
    const events: Array<{ kind: string; source: string }> = [];
    const stored: Heartbeat[] = [];
    const rejected: RejectionReason[] = [];
    const sessions = createSessionCoordinator({
      sessions: registry.deviceSessions,
      nodeId,
      clock,
      connections: { recordConnection: (e) => events.push({ kind: e.kind, source: e.source }) },
      log: silentLogger,
    });
    const admit = createHeartbeatAdmission({
      clock,
      rate: createHeartbeatRateLimit({ ratePerMin: 0, burst: 1 }),
      lockstep: createLockstepTracker({ windowMs: 5 }),
      sink: { add: (hb, done) => (stored.push(hb), done?.()) },
      rejections: { countRejection: (_d, _at, reason) => rejected.push(reason as RejectionReason) },
      log: silentLogger,
      sessions,
    });
    const send = (deviceId: string, epoch: number, seq: number) =>
      new Promise<void>((resolve) =>
        admit(
          { deviceId, contractId: 'C1', supplierId: 'S1', source: '10.0.0.1', session: createSeqSession(), sessionEpoch: epoch },
          Buffer.from(JSON.stringify({ seq })),
          () => resolve(),
        ),
      );
    return { sessions, events, stored, rejected, send };
  }

  it('refuses heartbeats of a stale epoch once the node learns of the later claim, and records the take-over once', async () => {
    const a = node('fence-a');
    const b = node('fence-b');
    let closes = 0;
    const epochA = await a.sessions.open('dev-fence-1', '10.0.0.1', () => (closes++, true));
    await a.send('dev-fence-1', epochA, 1);
    expect(a.stored).toHaveLength(1);

    const epochB = await b.sessions.open('dev-fence-1', '10.0.0.2', () => true);
    expect(epochB).toBe(epochA + 1);
    // A has not heard of it yet (its notice lost): until it does, its connection still counts.
    await a.send('dev-fence-1', epochA, 2);
    expect(a.stored).toHaveLength(2);

    expect(await a.sessions.reconcile()).toBe(1);
    expect(closes).toBe(1);
    await a.send('dev-fence-1', epochA, 3);
    expect(a.stored).toHaveLength(2);
    expect(a.rejected).toEqual(['stale-session']);
    // B's session, the device's own, goes on.
    await b.send('dev-fence-1', epochB, 3);
    expect(b.stored).toHaveLength(1);

    expect(a.events).toEqual([{ kind: 'takeover', source: '10.0.0.2' }]);
    expect(await a.sessions.reconcile()).toBe(0);
    expect(b.events).toEqual([]);
  });

  it('refuses a CONNECT whose claim answers after a later claim of the device was announced', async () => {
    const a = node('fence-c');
    const claiming = a.sessions.open('dev-fence-2', '10.0.0.1', () => true);
    // The notice of a later claim overtakes this node's own claim's answer.
    a.sessions.notified(JSON.stringify({ deviceId: 'dev-fence-2', epoch: 1000, node: 'fence-d', source: '10.0.0.4', at: clock.now() }));
    await expect(claiming).rejects.toBeInstanceOf(SessionSupersededError);
    expect(a.sessions.held()).toBe(0);
  });

  it('drops a malformed notice without acting on it', async () => {
    const a = node('fence-e');
    const epoch = await a.sessions.open('dev-fence-3', '10.0.0.1', () => true);
    a.sessions.notified('{"deviceId": 7}');
    a.sessions.notified('not json');
    await a.send('dev-fence-3', epoch, 1);
    expect(a.stored).toHaveLength(1);
    expect(a.sessions.held()).toBe(1);
  });

  it('gives racing claims of one device consecutive epochs, each naming the holder it replaced', async () => {
    const nodes = ['race-a', 'race-b', 'race-c', 'race-d'];
    const claims = await Promise.all(nodes.map((n) => registry.deviceSessions.claimMany([{ deviceId: 'dev-race', nodeId: n, source: '10.0.0.1', at: clock.now() }])));
    const chain = claims.map(([c], i) => ({ node: nodes[i]!, ...c! })).sort((x, y) => x.epoch - y.epoch);
    expect(chain.map((c) => c.epoch)).toEqual([1, 2, 3, 4]);
    // Each claim replaced the one just before it: the chain of holders has no gap and no repeat.
    expect(chain.map((c) => c.previousNodeId)).toEqual([null, ...chain.slice(0, 3).map((c) => c.node)]);
  });

  it('claims a batch with the same device twice in arrival order', async () => {
    const out = await registry.deviceSessions.claimMany([
      { deviceId: 'dev-batch', nodeId: 'n1', source: 's', at: 1 },
      { deviceId: 'dev-other', nodeId: 'n1', source: 's', at: 1 },
      { deviceId: 'dev-batch', nodeId: 'n2', source: 's', at: 2 },
    ]);
    expect(out).toEqual([
      { epoch: 1, previousNodeId: null },
      { epoch: 1, previousNodeId: null },
      { epoch: 2, previousNodeId: 'n1' },
    ]);
  });
});

describe('one node on SQLite', () => {
  it('keeps aedes’ own take-over and writes no session row', async () => {
    const gw = await startTestGateway({ database: 'sqlite' });
    try {
      const { devices } = await seedContract(gw, { devices: 1 });
      const device = devices[0]!;
      const first = await connectDevice(gw.mqttPort, device, { localAddress: '127.0.0.2' });
      const closing = closedWithin(first, 3000);
      const second = await connectDevice(gw.mqttPort, device, { localAddress: '127.0.0.3' });
      await closing;
      await heartbeat(second, device.id, { seq: 1 });
      await second.endAsync();
      await gw.gateway.flush();
      expect(gw.gateway.db.prepare('SELECT count(*) AS n FROM device_sessions').get()).toEqual({ n: 0 });
      const takeovers = gw.gateway.db.prepare(`SELECT source FROM evidence_connection WHERE device_id = ? AND kind = 'takeover'`).all(device.id);
      expect(takeovers).toEqual([{ source: '127.0.0.3' }]);
      expect(await gw.gateway.reconcileSessions()).toBe(0);
    } finally {
      await gw.close();
    }
  });
});
