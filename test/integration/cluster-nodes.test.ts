/**
 * Node identity (issue 17): every gateway node refreshes its row in the shared registry, and
 * GET /v1/cluster/nodes (admin) lists the live ones; /healthz names the node that answered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/clock.js';
import { openSqlDb, type SqlDb } from '../../src/db/sql-db.js';
import { silentLogger } from '../../src/log.js';
import { createRegistry, type Registry } from '../../src/registry/index.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { clusterNodeEnv, testDatabase } from '../support/postgres.js';
import { connectDevice } from '../support/mqtt-devices.js';
import { seedContract } from '../support/seed.js';

type Nodes = { node: string; nodes: Array<{ id: string; pid: number; mqttPort: number; httpPort: number; connectedDevices: number; heartbeatsPerSecond: number; lastSeen: string }> };

describe('gateway nodes sharing one PostgreSQL registry', () => {
  const clock = new VirtualClock('2020-10-09T08:00:00+08:00');
  let url: string;
  let a: TestGateway;
  let b: TestGateway;

  beforeAll(async () => {
    url = await testDatabase('cluster_nodes');
    const env = (node: string) => clusterNodeEnv(url, node);
    a = await startTestGateway({ clock, env: env('node-a') });
    b = await startTestGateway({ clock, env: env('node-b') });
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  it('lists both nodes from either, each with its ports and pid, and /healthz names the one that answered', async () => {
    const fromA = await a.json<Nodes>('/v1/cluster/nodes');
    const fromB = await b.json<Nodes>('/v1/cluster/nodes');
    expect(fromA.node).toBe('node-a');
    expect(fromB.node).toBe('node-b');
    expect(fromA.nodes.map((n) => n.id)).toEqual(['node-a', 'node-b']);
    expect(fromB.nodes).toEqual(fromA.nodes);
    expect(fromA.nodes.map((n) => n.mqttPort)).toEqual([a.mqttPort, b.mqttPort]);
    expect(fromA.nodes.every((n) => n.pid === process.pid)).toBe(true);
    expect((await a.json<{ node: string }>('/healthz', { key: null })).node).toBe('node-a');
    expect((await b.json<{ node: string }>('/healthz', { key: null })).node).toBe('node-b');
  });

  it('counts the devices connected to each node at its next refresh', async () => {
    const contract = await seedContract(a, { devices: 3 });
    const clients = await Promise.all(contract.devices.slice(0, 2).map((d) => connectDevice(a.mqttPort, d)));
    const third = await connectDevice(b.mqttPort, contract.devices[2]!);
    try {
      await a.gateway.flush();
      // The refresh is periodic; a test need not wait for it.
      await Promise.all([a, b].map((g) => g.gateway.announceNow()));
      const { nodes } = await a.json<Nodes>('/v1/cluster/nodes');
      expect(nodes.map((n) => [n.id, n.connectedDevices])).toEqual([
        ['node-a', 2],
        ['node-b', 1],
      ]);
    } finally {
      await Promise.all([...clients, third].map((c) => c.endAsync()));
    }
  });

  it('refuses the list to a key that is not an admin', async () => {
    expect((await a.api('/v1/cluster/nodes', { key: null })).status).toBe(401);
  });

  it('drops a node that stops cleanly at once', async () => {
    const c = await startTestGateway({ clock, env: { GATEWAY_DATABASE_URL: url, GATEWAY_STORE: 'postgres', GATEWAY_NODE_ID: 'node-c' } });
    expect((await a.json<Nodes>('/v1/cluster/nodes')).nodes.map((n) => n.id)).toEqual(['node-a', 'node-b', 'node-c']);
    await c.close();
    expect((await a.json<Nodes>('/v1/cluster/nodes')).nodes.map((n) => n.id)).toEqual(['node-a', 'node-b']);
  });
});

describe('a node that stops refreshing (killed)', () => {
  let sql: SqlDb;
  let registry: Registry;
  const clock = new VirtualClock('2020-10-09T08:00:00+08:00');

  beforeAll(async () => {
    sql = openSqlDb({ kind: 'postgres', url: await testDatabase('cluster_age') });
    registry = await createRegistry({ sql, clock, log: silentLogger });
  });
  afterAll(() => sql.close());

  it('is listed while its last refresh is recent, and no longer once it is older than the live window', async () => {
    const self = { pid: 1, host: '127.0.0.1', mqttPort: 1883, httpPort: 8080, startedAt: clock.now(), connectedDevices: 0, heartbeatsPerSecond: 0 };
    await registry.clusterNodes.announce({ id: 'alive', ...self });
    await registry.clusterNodes.announce({ id: 'killed', ...self });
    expect((await registry.clusterNodes.live(15_000)).map((n) => n.id)).toEqual(['alive', 'killed']);
    clock.advance(10_000);
    await registry.clusterNodes.announce({ id: 'alive', ...self, heartbeatsPerSecond: 12.5 });
    clock.advance(10_000);
    const live = await registry.clusterNodes.live(15_000);
    expect(live.map((n) => [n.id, n.heartbeatsPerSecond])).toEqual([['alive', 12.5]]);
  });
});
