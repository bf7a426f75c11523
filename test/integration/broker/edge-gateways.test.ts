import net from 'node:net';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/clock.js';
import { encodeSparkplug } from '../../../src/edge/index.js';
import { SparkplugEdgeNode } from '../../../simulators/edge/sparkplug-edge-node.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { connectDevice } from '../../support/mqtt-devices.js';
import { seedContract, type SeededContract } from '../../support/seed.js';

let gw: TestGateway;
let clock: VirtualClock;
let seeded: SeededContract;
let other: SeededContract;
let supplierKey: string;
let otherKey: string;

const DAY = '2020-10-09';

beforeAll(async () => {
  clock = new VirtualClock('2020-10-09T08:00:00+08:00');
  gw = await startTestGateway({ clock });
  seeded = await seedContract(gw, { devices: 10 });
  other = await seedContract(gw, { devices: 2, supplierName: 'Other supplier' });
  supplierKey = (await gw.json('/v1/api-keys', { body: { role: 'supplier', supplierId: seeded.supplierId } })).key;
  otherKey = (await gw.json('/v1/api-keys', { body: { role: 'supplier', supplierId: other.supplierId } })).key;
});
afterAll(async () => gw?.close());

const ids = (from: number, to: number) => seeded.devices.slice(from, to).map((d) => d.id);
const sorted = (list: string[]) => [...list].sort();

async function registerEdge(devices: string[], key = supplierKey) {
  return gw.json<{ id: string; token: string; devices: string[] }>(`/v1/contracts/${seeded.contractId}/edge-nodes`, {
    body: { name: 'Line 1 gateway', devices },
    key,
  });
}

async function activity(deviceId: string) {
  await gw.gateway.flush();
  return (await gw.gateway.store.dailyActivity([deviceId], DAY, DAY))[0];
}

/** Rejection counters as stored in SQLite (on the commit cadence, or by the once-a-second flush). */
function rejectionsOf(subject: string): { reason: string; count: number }[] {
  return gw.gateway.db
    .prepare('SELECT reason, count FROM evidence_rejection WHERE device_id = ?')
    .all(subject) as { reason: string; count: number }[];
}

async function eventually(check: () => void, timeoutMs = 3000): Promise<void> {
  for (let waited = 0; ; waited += 50) {
    try {
      return check();
    } catch (err) {
      if (waited >= timeoutMs) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

function edgeCounter(edgeNodeId: string, counter: string): number {
  const row = gw.gateway.db
    .prepare('SELECT sum(count) AS n FROM evidence_edge WHERE subject = ? AND counter = ?')
    .get(edgeNodeId, counter) as { n: number | null };
  return row.n ?? 0;
}

function closed(client: mqtt.MqttClient): Promise<void> {
  return new Promise((resolve) => (client.connected ? client.once('close', () => resolve()) : resolve()));
}

async function edgeNode(credentials: { id: string; token: string }, bdSeq = 0): Promise<SparkplugEdgeNode> {
  return new SparkplugEdgeNode(credentials, { port: gw.mqttPort, bdSeq, now: () => clock.now() }).connect();
}

describe('edge nodes in the registry', () => {
  it('issues the token once, binds devices of the contract and audits the binding', async () => {
    const node = await registerEdge(ids(0, 2));
    expect(node.id).toMatch(/^edg_[a-z2-7]{12}$/);
    expect(node.token).toMatch(/^[0-9a-f]{32}$/);
    expect(node.devices).toEqual(sorted(ids(0, 2)));
    const read = await gw.json(`/v1/edge-nodes/${node.id}`, { key: supplierKey });
    expect(read).not.toHaveProperty('token');
    expect(read.live).toMatchObject({ connected: false, born: false });

    const rebound = await gw.json(`/v1/edge-nodes/${node.id}/devices`, { method: 'PUT', body: { devices: ids(1, 3) }, key: supplierKey });
    expect(rebound.devices).toEqual(sorted(ids(1, 3)));
    const audit = await gw.json(`/v1/audit?subject=${node.id}`);
    expect(audit.items.map((e: { action: string }) => e.action)).toEqual(['edge-node.create', 'edge-node.bind']);
    expect(audit.items[1].details).toMatchObject({ added: [ids(2, 3)[0]], removed: [ids(0, 1)[0]] });
    expect(JSON.stringify(audit.items)).not.toContain(node.token);
    await gw.json(`/v1/edge-nodes/${node.id}/devices`, { method: 'PUT', body: { devices: [] }, key: supplierKey });
  });

  it('refuses a device bound to another edge node (409) and a device of another contract (400)', async () => {
    const first = await registerEdge([ids(3, 4)[0]!]);
    const res = await gw.api(`/v1/contracts/${seeded.contractId}/edge-nodes`, { body: { name: 'second', devices: ids(3, 4) }, key: supplierKey });
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ code: 'GW_ERR_EDGE_DEVICE_BOUND_ELSEWHERE' });
    const foreign = await gw.api(`/v1/edge-nodes/${first.id}/devices`, { method: 'PUT', body: { devices: [other.devices[0]!.id] }, key: supplierKey });
    expect(foreign.status).toBe(400);
    expect(await foreign.json()).toMatchObject({ code: 'GW_ERR_EDGE_UNKNOWN_DEVICE' });
    // The database holds the rule too, whatever the code above it does.
    expect(() =>
      gw.gateway.db.prepare('INSERT INTO edge_node_devices (device_id, edge_node_id, bound_at) VALUES (?, ?, 0)').run(ids(3, 4)[0], 'edg_aaaaaaaaaaaa'),
    ).toThrow();
    await gw.json(`/v1/edge-nodes/${first.id}/devices`, { method: 'PUT', body: { devices: [] }, key: supplierKey });
  });

  it("hides another supplier's edge nodes and contracts (404)", async () => {
    const node = await registerEdge([]);
    expect((await gw.api(`/v1/edge-nodes/${node.id}`, { key: otherKey })).status).toBe(404);
    expect((await gw.api(`/v1/edge-nodes/${node.id}/devices`, { method: 'PUT', body: { devices: [] }, key: otherKey })).status).toBe(404);
    expect((await gw.api(`/v1/contracts/${seeded.contractId}/edge-nodes`, { body: { name: 'x', devices: [] }, key: otherKey })).status).toBe(404);
    expect((await gw.api(`/v1/edge-nodes/edg_aaaaaaaaaaaa`, { key: supplierKey })).status).toBe(404);
  });
});

describe('Sparkplug B over MQTT', () => {
  it('makes a bound device online in the minutes its DBIRTH and DDATA arrive while the node is born', async () => {
    const creds = await registerEdge(ids(0, 2));
    const node = await edgeNode(creds);
    // Before NBIRTH nothing counts.
    await node.ddata(ids(0, 1)[0]!, { temperature: 21.5 }, 1);
    await node.nbirth();
    await node.dbirth(ids(0, 1)[0]!, { temperature: 21.5, status: 'running' }, 1);
    clock.advance(60_000);
    await node.ddata(ids(0, 1)[0]!, { temperature: 22.25, spindle: 1200 }, 0);
    await node.ndata({ uptime: 60 }, 1); // the QoS 0 DDATA before it has been received
    clock.advance(60_000);
    await node.ddata(ids(0, 1)[0]!, { temperature: 22.5, spindle: 1210 }, 1);
    // The second device was never born: its DDATA is counted and dropped.
    await node.ddata(ids(1, 2)[0]!, { temperature: 30.5 }, 1);
    const row = await activity(ids(0, 1)[0]!);
    expect(row).toMatchObject({ heartbeats: 3, onlineMinutes: 3 });
    expect(await activity(ids(1, 2)[0]!)).toBeUndefined();
    await eventually(() => expect(rejectionsOf(ids(0, 1)[0]!)).toContainEqual({ reason: 'sparkplug-node-not-born', count: 1 }));
    await eventually(() => expect(rejectionsOf(ids(1, 2)[0]!)).toContainEqual({ reason: 'sparkplug-device-not-born', count: 1 }));

    const live = await gw.json(`/v1/edge-nodes/${creds.id}`, { key: supplierKey });
    expect(live.live).toEqual({ connected: true, born: true, group: 'factory', bdSeq: 0, devicesAlive: 1 });

    const report = await gw.json(`/v1/contracts/${seeded.contractId}/verification?at=2020-10-09T09:00:00%2B08:00`);
    const device = report.devices.find((d: { id: string }) => d.id === ids(0, 1)[0]);
    expect(device.reportedVia).toEqual([{ edgeNode: creds.id, heartbeats: 3 }]);
    await node.shutdown();
    await gw.json(`/v1/edge-nodes/${creds.id}/devices`, { method: 'PUT', body: { devices: [] }, key: supplierKey });
  });

  it('takes NDEATH from the will of a killed connection, then accepts the rebirth', async () => {
    const creds = await registerEdge(ids(2, 4));
    const node = await edgeNode(creds, 7);
    await node.nbirth();
    await node.dbirth(ids(2, 3)[0]!, { temperature: 40.5 }, 1);
    await gw.gateway.flush();
    const closedOnServer = new Promise<void>((resolve) => gw.gateway.broker.aedes.once('clientDisconnect', () => resolve()));
    // Killed: no DISCONNECT packet, so the broker publishes the will (NDEATH, bdSeq 7) [MQTT-3.1.2-8].
    (node.client.stream as net.Socket).destroy();
    await closedOnServer;
    await eventually(() => expect(edgeCounter(creds.id, 'node-deaths')).toBe(1));
    expect((await gw.json(`/v1/edge-nodes/${creds.id}`)).live).toMatchObject({ connected: false, born: false });

    clock.advance(60_000);
    node.nextLife();
    await node.connect();
    await node.nbirth();
    await node.dbirth(ids(2, 3)[0]!, { temperature: 41.5 }, 1);
    await node.ddata(ids(2, 3)[0]!, { temperature: 41.75 }, 1);
    expect((await gw.json(`/v1/edge-nodes/${creds.id}`)).live).toMatchObject({ connected: true, born: true, bdSeq: 8, devicesAlive: 1 });
    expect(await activity(ids(2, 3)[0]!)).toMatchObject({ heartbeats: 3, onlineMinutes: 2 });

    // An NDEATH naming an older life does not end this one.
    await node.client.publishAsync(node.topic('NDEATH'), Buffer.from(encodeSparkplug({ metrics: [{ name: 'bdSeq', type: 'UInt64', value: 7 }] })), { qos: 1 });
    expect((await gw.json(`/v1/edge-nodes/${creds.id}`)).live).toMatchObject({ born: true });
    await eventually(() => expect(rejectionsOf(creds.id)).toContainEqual({ reason: 'sparkplug-stale-ndeath', count: 1 }));
    await node.shutdown();
    await eventually(() => expect(edgeCounter(creds.id, 'node-deaths')).toBe(2));
  });

  it('closes the connection of an edge node that speaks for a device not bound to it, or under another id', async () => {
    const creds = await registerEdge(ids(4, 5));
    let node = await edgeNode(creds);
    await node.nbirth();
    const gone = closed(node.client);
    node.dbirth(ids(5, 6)[0]!, { temperature: 20.5 }, 1).catch(() => undefined);
    await gone;
    expect(await activity(ids(5, 6)[0]!)).toBeUndefined();

    node = await edgeNode(creds, 1);
    await node.nbirth();
    const gone2 = closed(node.client);
    node.client.publish(`spBv1.0/factory/DBIRTH/edg_aaaaaaaaaaaa/${ids(4, 5)[0]}`, Buffer.from(encodeSparkplug({ seq: 1, metrics: [] })), { qos: 1 });
    await gone2;
    expect(await activity(ids(4, 5)[0]!)).toBeUndefined();

    // A device of another supplier's contract, by its real id: refused the same way.
    node = await edgeNode(creds, 2);
    await node.nbirth();
    const gone3 = closed(node.client);
    node.dbirth(other.devices[0]!.id, { temperature: 20.5 }, 1).catch(() => undefined);
    await gone3;
    expect(await activity(other.devices[0]!.id)).toBeUndefined();
  });

  it("lets an edge node subscribe to its own commands and host STATE, as Tahu clients do, and nothing else", async () => {
    const creds = await registerEdge([]);
    const node = await edgeNode(creds);
    const granted = await node.client.subscribeAsync([
      `spBv1.0/factory/NCMD/${creds.id}`,
      `spBv1.0/factory/DCMD/${creds.id}/#`,
      'spBv1.0/STATE/+',
    ]);
    expect(granted.map((g) => g.qos)).toEqual([0, 0, 0]);
    expect(node.client.connected).toBe(true);
    const gone = closed(node.client);
    node.client.subscribe('spBv1.0/factory/NCMD/edg_aaaaaaaaaaaa');
    await gone;
  });

  it('counts a poisoned protobuf payload against the node and keeps the connection', async () => {
    const creds = await registerEdge(ids(5, 6));
    const node = await edgeNode(creds);
    await node.nbirth();
    await node.client.publishAsync(node.topic('DBIRTH', ids(5, 6)[0]), Buffer.from('{"seq": 1} is not protobuf'), { qos: 1 });
    await node.client.publishAsync(node.topic('DDATA', ids(5, 6)[0]), Buffer.alloc(5000, 0x0a), { qos: 1 });
    await node.dbirth(ids(5, 6)[0]!, { temperature: 20.5 }, 1);
    expect(node.client.connected).toBe(true);
    expect(await activity(ids(5, 6)[0]!)).toMatchObject({ heartbeats: 1 });
    await eventually(() => expect(rejectionsOf(creds.id).map((r) => r.reason).sort()).toEqual(['invalid-sparkplug', 'payload-too-large']));
    await node.shutdown();
  });

  it('ends the live session when a device is unbound, so the node cannot go on reporting for it', async () => {
    const creds = await registerEdge(ids(8, 9));
    const node = await edgeNode(creds);
    await node.nbirth();
    await node.dbirth(ids(8, 9)[0]!, { temperature: 20.5 }, 1);
    const gone = closed(node.client);
    await gw.json(`/v1/edge-nodes/${creds.id}/devices`, { method: 'PUT', body: { devices: [] }, key: supplierKey });
    await gone;
    const again = await edgeNode(creds, 1);
    await again.nbirth();
    const refused = closed(again.client);
    again.dbirth(ids(8, 9)[0]!, { temperature: 21.5 }, 1).catch(() => undefined);
    await refused;
    expect(await activity(ids(8, 9)[0]!)).toMatchObject({ heartbeats: 1 });
  });
});

describe('JSON batch', () => {
  it('validates, counts and rejects each entry on its own, and acknowledges QoS 1 after the commit', async () => {
    const creds = await registerEdge(ids(6, 8));
    const client = await connectDevice(gw.mqttPort, creds);
    const [a, b] = ids(6, 8) as [string, string];
    const batch = [
      { device: a, seq: 1, status: 'running', metrics: { temperature: 20.5 } },
      { device: b, seq: 1 },
      { device: b, seq: 1 }, // duplicate seq
      { device: a, seq: -1 }, // invalid
      { device: other.devices[0]!.id, seq: 1 }, // not bound to this node
      { seq: 2 }, // no device
      { device: a, seq: 2, metrics: { blob: 1, name: 'x'.repeat(5000) } }, // > 4 KiB
      'not an object',
    ];
    await client.publishAsync(`v1/edges/${creds.id}/heartbeats`, JSON.stringify(batch), { qos: 1 });
    // No flush: the PUBACK promised durability.
    expect((await gw.gateway.store.dailyActivity([a], DAY, DAY))[0]).toMatchObject({ heartbeats: 1 });
    expect((await gw.gateway.store.dailyActivity([b], DAY, DAY))[0]).toMatchObject({ heartbeats: 1 });
    await gw.gateway.flush();
    await eventually(() => expect(rejectionsOf(b)).toContainEqual({ reason: 'duplicate-seq', count: 1 }));
    await eventually(() => expect(rejectionsOf(a).map((r) => r.reason).sort()).toEqual(['invalid-payload', 'payload-too-large']));
    await eventually(() => expect(rejectionsOf(creds.id).map((r) => r.reason).sort()).toEqual(['invalid-payload', 'unbound-device']));
    expect(await activity(other.devices[0]!.id)).toBeUndefined();
    expect(client.connected).toBe(true);
    await client.endAsync();
  });

  it('takes a 200 KiB batch from an edge node, while a device connection is closed at the 8 KiB packet limit', async () => {
    const free = await registerEdge([]);
    const client = await connectDevice(gw.mqttPort, free);
    const entries = Array.from({ length: 2000 }, (_, i) => ({ device: 'd0000000000000000', seq: i, metrics: { temperature: 20.123456789, pressure: 1.0123456789 } }));
    const body = JSON.stringify(entries);
    expect(body.length).toBeGreaterThan(150 * 1024);
    expect(body.length).toBeLessThan(256 * 1024);
    await client.publishAsync(`v1/edges/${free.id}/heartbeats`, body, { qos: 1 });
    expect(client.connected).toBe(true);
    await gw.gateway.flush();
    await eventually(() => expect(rejectionsOf(free.id)).toContainEqual({ reason: 'unbound-device', count: 2000 }));
    await client.endAsync();

    const device = await connectDevice(gw.mqttPort, seeded.devices[9]!);
    const gone = closed(device);
    device.publish(`v1/devices/${seeded.devices[9]!.id}/heartbeat`, body, { qos: 1 });
    await gone;
  });
});
