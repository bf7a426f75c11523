/**
 * Fail-over of the cluster with real processes (issue 17, point 6): three gateway nodes
 * (`tsx src/main.ts`) sharing one PostgreSQL 15, Debian's HAProxy in front (cluster/), and a
 * fleet of mqtt.js devices publishing QoS 1 heartbeats through HAProxy, each from its own
 * loopback address so that `balance source` spreads them over the nodes, PROXY v2 telling each
 * node that address.
 *
 * - SIGKILL of one node: its devices reconnect through HAProxy to the others, every PUBACKed
 *   heartbeat is stored, the verification is the same through every node and through HAProxy
 *   (and names each device's own address).
 *   The time until 95% of the killed node's devices publish again is printed; the ≤ 10 s target
 *   (with mqtt.js' default 1 s reconnect period) is the benchmark's to hold, the bound here only
 *   catches a fail-over that broke.
 * - PostgreSQL SIGKILLed and started again under load: nothing acknowledged is lost, and the
 *   nodes, not restarted, take new CONNECTs and store heartbeats again by themselves.
 * - Rolling restart (SIGTERM one node at a time, start it, wait until HAProxy sees it up):
 *   nothing acknowledged is lost, and some devices are connected at every moment.
 *
 * "Stored" is checked row by row: the nodes keep raw heartbeats (GATEWAY_RAW_RETENTION_DAYS),
 * and each acknowledged (device, seq) must be among them.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { haproxyServers } from '../../../cluster/haproxy.js';
import { startCluster, type Cluster } from '../../../cluster/start-cluster.js';
import { createApiClient, type ApiClient } from '../../../src/provisioning/api-client.js';
import { ackedButNotStored, percentile, republishDelays, startFleet, type Fleet } from '../../support/cluster-fleet.js';
import { connectDevice, heartbeat } from '../../support/mqtt-devices.js';
import { sleep } from '../../support/process.js';
import { seedContract } from '../../support/seed.js';

const NODES = 3;
const DEVICES = 150;
const PERIOD_MS = 500;
/** The fail-over bound this test holds; the 10 s target is measured by the cluster benchmark. */
const REPUBLISH_BOUND_MS = 30_000;

const NODE_ENV = {
  GATEWAY_RAW_RETENTION_DAYS: '1',
  // Flood control acknowledges and drops heartbeats above a device's rate by design; the
  // resends after a reconnect come in a burst.
  GATEWAY_DEVICE_MAX_RATE_PER_MIN: '0',
};

type Report = { contractId: string; registeredDevices: number; activeDevices: number; digest: string; devices: Array<{ id: string; heartbeats: number; sources: string[] }> };

describe('a cluster of gateway nodes behind HAProxy, under QoS 1 load', () => {
  let cluster: Cluster;
  let api: ApiClient;

  beforeAll(async () => {
    cluster = await startCluster({
      nodes: NODES,
      mqttHost: '127.0.0.1',
      mqttPort: 0,
      httpHost: '127.0.0.1',
      httpPort: 0,
      adminKey: 'cluster-failover-admin-key-0123456789',
      nodeEnv: NODE_ENV,
      // PROXY protocol v2 (the launcher's default): each node sees each device's own address.
      proxyProtocol: true,
    });
    api = createApiClient(cluster.httpUrl, cluster.adminKey);
  });
  afterAll(async () => {
    await cluster?.stop();
  });
  // Each scenario starts from the whole cluster up, whatever the previous one left behind.
  beforeEach(async () => {
    for (let i = 0; i < NODES; i++) if (!cluster.nodes[i]!.process) await cluster.startNode(i);
    await cluster.waitForHaproxy(cluster.nodes.map((_, i) => i));
  });

  const mqttSessions = async () => (await haproxyServers(cluster.statsPort)).filter((s) => s.backend === 'gateway_mqtt').map((s) => s.sessions);

  async function fleetOf(devices: number): Promise<{ contractId: string; fleet: Fleet }> {
    const { contractId, devices: seeded } = await seedContract(api, { devices });
    const fleet = startFleet(cluster.mqttPort, seeded, { periodMs: PERIOD_MS });
    await fleet.allConnected();
    return { contractId, fleet };
  }

  it('SIGKILL of a node: its devices publish again through the others, nothing acknowledged is lost, every node verifies alike', async () => {
    const { contractId, fleet } = await fleetOf(DEVICES);
    try {
      const before = await mqttSessions();
      // balance source spreads the addresses: every node holds devices.
      expect(before.every((n) => n > 0), `sessions per node ${before.join('/')}`).toBe(true);
      expect(before.reduce((a, b) => a + b, 0)).toBe(DEVICES);
      const victim = before.indexOf(Math.max(...before));
      await sleep(3_000);

      const killedAt = performance.now();
      await cluster.killNode(victim);
      let republish = republishDelays(fleet.devices, killedAt);
      while (republish.delays.some((d) => d === Number.POSITIVE_INFINITY) && performance.now() - killedAt < REPUBLISH_BOUND_MS + 5_000) {
        await sleep(100);
        republish = republishDelays(fleet.devices, killedAt);
      }
      // Exactly the killed node's devices lost their connection; the others' were untouched.
      expect(republish.affected).toBe(before[victim]);
      const p95 = percentile(republish.delays, 0.95);
      console.info(
        `cluster SIGKILL: devices per node ${before.join('/')}; the ${republish.affected} of node-${victim + 1} published again through HAProxy; ` +
          `95% within ${Math.round(p95)} ms, all within ${Math.round(percentile(republish.delays, 1))} ms ` +
          `(target ≤ 10000 ms; mqtt.js reconnect period 1000 ms, heartbeat every ${PERIOD_MS} ms)`,
      );
      expect(p95).toBeLessThanOrEqual(REPUBLISH_BOUND_MS);

      await sleep(1_000);
      const after = await mqttSessions();
      expect(after[victim]).toBe(0);
      expect(after.reduce((a, b) => a + b, 0)).toBe(DEVICES);
      await fleet.stop();

      const missing = await ackedButNotStored(cluster.databaseUrl, fleet.devices);
      console.info(`cluster SIGKILL: ${fleet.ackedCount()} heartbeats PUBACKed, ${missing.length} of them not stored`);
      expect(fleet.ackedCount()).toBeGreaterThan(DEVICES * 5);
      expect(missing).toEqual([]);

      // The killed node back, then the same question to every node and to HAProxy (round robin).
      await cluster.startNode(victim);
      await cluster.waitForHaproxy(cluster.nodes.map((_, i) => i));
      await sleep(1_500); // the nodes' evidence flush (1 s) of the devices' goodbyes
      const at = new Date().toISOString();
      const path = `/v1/contracts/${contractId}/verification?at=${encodeURIComponent(at)}`;
      const viaNodes = await Promise.all(cluster.nodes.map((n) => createApiClient(`http://127.0.0.1:${n.httpPort}`, cluster.adminKey).json<Report>(path)));
      const viaHaproxy = [];
      for (let i = 0; i < NODES; i++) viaHaproxy.push(await api.json<Report>(path));
      const reports = [...viaNodes, ...viaHaproxy];
      expect(new Set(reports.map((r) => r.digest)).size, 'one digest from every node').toBe(1);
      expect(reports.every((r) => r.registeredDevices === DEVICES)).toBe(true);
      // The report counts every acknowledged heartbeat (resends whose PUBACK was lost may add).
      const acked = new Map(fleet.devices.map((d) => [d.id, d.acked.size]));
      for (const d of reports[0]!.devices) expect(d.heartbeats, d.id).toBeGreaterThanOrEqual(acked.get(d.id)!);
      // Through HAProxy (PROXY v2), on whichever node: each device's own address, never HAProxy's.
      const addresses = new Map(fleet.devices.map((d) => [d.id, [d.address]]));
      expect(new Map(reports[0]!.devices.map((d) => [d.id, d.sources]))).toEqual(addresses);
    } finally {
      await fleet.stop();
    }
  });

  it('PostgreSQL killed and started again: nothing acknowledged is lost, the nodes take CONNECTs and heartbeats again by themselves', async () => {
    const postgres = cluster.postgres!;
    const pids = cluster.nodes.map((n) => n.process!.process.pid);
    const { fleet } = await fleetOf(DEVICES);
    try {
      await sleep(3_000);
      const downAt = performance.now();
      postgres.kill();
      await sleep(5_000);
      const restartAsked = performance.now();
      await postgres.restart();
      const upAt = performance.now();

      // Every device publishes again (a PUBACK after the restart), with no node restarted.
      const lastBack = () => Math.max(...fleet.devices.map((d) => d.ackTimes.find((t) => t > upAt) ?? Number.POSITIVE_INFINITY));
      while (lastBack() === Number.POSITIVE_INFINITY && performance.now() - upAt < 60_000) await sleep(100);
      const recoveredMs = lastBack() - upAt;
      expect(recoveredMs).toBeLessThan(60_000);
      // The outage was real: no heartbeat was acknowledged while the database was away.
      const ackedDuring = fleet.devices.reduce((n, d) => n + d.ackTimes.filter((t) => t > downAt + 1_000 && t < restartAsked).length, 0);
      expect(ackedDuring).toBe(0);

      const healthy = async () =>
        Promise.all(cluster.nodes.map(async (n) => ((await (await fetch(`http://127.0.0.1:${n.httpPort}/healthz`)).json()) as { status: string }).status));
      let statuses = await healthy();
      for (let i = 0; i < 100 && statuses.some((s) => s !== 'ok'); i++) {
        await sleep(100);
        statuses = await healthy();
      }
      expect(statuses).toEqual(cluster.nodes.map(() => 'ok'));
      const healthyMs = performance.now() - upAt;

      // A device that never connected before: registered through HAProxy, CONNECT and PUBACK.
      const { devices: [fresh] } = await seedContract(api, { devices: 1 });
      const client = await connectDevice(cluster.mqttPort, fresh!, { localAddress: '127.11.0.1' });
      await heartbeat(client, fresh!.id, { seq: 1 });
      await client.endAsync();
      expect(cluster.nodes.map((n) => n.process!.process.pid)).toEqual(pids);

      await sleep(1_000);
      await fleet.stop();
      const missing = await ackedButNotStored(cluster.databaseUrl, fleet.devices);
      console.info(
        `cluster PostgreSQL restart: down ${Math.round(restartAsked - downAt)} ms; every device publishing again ${Math.round(recoveredMs)} ms ` +
          `after PostgreSQL accepted connections, every node's /healthz ok within ${Math.round(healthyMs)} ms; ` +
          `${fleet.ackedCount()} heartbeats PUBACKed, ${missing.length} of them not stored`,
      );
      expect(missing).toEqual([]);
    } finally {
      await fleet.stop();
    }
  });

  it('rolling restart (SIGTERM one node at a time): nothing acknowledged is lost, and devices are connected at every moment', async () => {
    const { fleet } = await fleetOf(DEVICES);
    try {
      await sleep(2_000);
      fleet.resetMinimum();
      const held: number[] = [];
      for (let i = 0; i < NODES; i++) {
        const sessions = await mqttSessions();
        held.push(sessions[i]!);
        expect(sessions[i], `node-${i + 1} holds devices when it is stopped`).toBeGreaterThan(0);
        expect(await cluster.stopNode(i), `node-${i + 1} exits cleanly on SIGTERM`).toBe(0);
        await cluster.startNode(i);
        await cluster.waitForHaproxy(cluster.nodes.map((_, j) => j));
        await fleet.allConnected();
      }
      const lastUp = performance.now();
      await sleep(2_000);
      const minimum = fleet.minimumConnected();
      await fleet.stop();

      const missing = await ackedButNotStored(cluster.databaseUrl, fleet.devices);
      console.info(
        `cluster rolling restart of ${NODES} nodes (devices on each as it was stopped: ${held.join('/')}): ` +
          `at least ${minimum} of ${DEVICES} devices connected at every moment (sampled every 10 ms); ` +
          `${fleet.ackedCount()} heartbeats PUBACKed, ${missing.length} of them not stored`,
      );
      expect(minimum).toBeGreaterThan(0);
      expect(minimum).toBeLessThan(DEVICES);
      expect(missing).toEqual([]);
      // Every device published after the last node was back.
      expect(fleet.devices.filter((d) => !d.ackTimes.some((t) => t > lastUp)).map((d) => d.id)).toEqual([]);
    } finally {
      await fleet.stop();
    }
  });
});
