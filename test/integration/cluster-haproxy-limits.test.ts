/**
 * Limits across nodes behind a real HAProxy (issue 17, points 1 and 4; README "Limits across
 * nodes"): two gateway nodes on one PostgreSQL registry behind the cluster's HAProxy
 * (cluster/haproxy.ts: `mode tcp`, `balance source`, `hash-type consistent`, PROXY protocol v2 to
 * nodes that trust it). What the per-node limits rest on is checked where it happens: every
 * connection from one source address reaches the same node (read from the nodes themselves), so
 * that node's per-address connection bucket and failed-authentication ban see the address's whole
 * count and hold exactly as on one node; and a device banned for flapping on the node its address
 * hashes to is refused on the other node when it comes from an address hashing there.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultMaxConnections, HAPROXY_DEFAULTS, startHaproxy, type RunningHaproxy } from '../../cluster/haproxy.js';
import { VirtualClock } from '../../src/clock.js';
import { counterValues, figure, RawMqtt } from '../support/fuzz.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { connectDevice } from '../support/mqtt-devices.js';
import { clusterNodeEnv, testDatabase } from '../support/postgres.js';
import { freePort } from '../support/process.js';
import { seedContract, type SeededDevice } from '../support/seed.js';

const FLAP_CONNECTS = 3;
const BAN_MS = 30_000;
/** Client source addresses (any of 127.0.0.0/8 works on loopback) and devices per address. */
const SOURCES = Array.from({ length: 16 }, (_, i) => `127.0.4.${i + 1}`);
const DEVICES_PER_SOURCE = 3;
/** Per-address connection bucket (per minute, and back to back) and failed authentications before a ban. */
const CONNECT_BURST = 8;
const AUTH_FAILURES = 3;

describe('two nodes behind HAProxy (balance source)', () => {
  const clock = new VirtualClock('2020-10-09T08:00:30+08:00');
  let a: TestGateway;
  let b: TestGateway;
  let haproxy: RunningHaproxy;
  let haproxyPort: number;
  const dir = mkdtempSync(join(tmpdir(), 'gw-haproxy-limits-'));
  let devices: SeededDevice[];
  /** The node each source address landed on in the first test. */
  const nodeOfSource = new Map<string, TestGateway>();

  beforeAll(async () => {
    const url = await testDatabase('cluster_haproxy');
    const env = (node: string) => ({
      ...clusterNodeEnv(url, node),
      GATEWAY_FLAP_CONNECTS: String(FLAP_CONNECTS),
      GATEWAY_FLAP_WINDOW_S: '60',
      GATEWAY_BAN_SECONDS: String(BAN_MS / 1000),
      GATEWAY_TRUSTED_PROXIES: '127.0.0.1', // HAProxy's address towards the nodes
      GATEWAY_CONN_RATE_PER_ADDR: String(CONNECT_BURST),
      GATEWAY_CONN_RATE_WINDOW_S: '60',
      GATEWAY_CONN_BURST_PER_ADDR: String(CONNECT_BURST),
      GATEWAY_AUTH_FAILURES_PER_ADDR: String(AUTH_FAILURES),
    });
    a = await startTestGateway({ clock, env: env('node-a') });
    b = await startTestGateway({ clock, env: env('node-b') });
    // The cluster's own HAProxy configuration: the nodes see each client's address (PROXY v2).
    haproxyPort = await freePort();
    haproxy = await startHaproxy(
      {
        mqttHost: '127.0.0.1',
        mqttPort: haproxyPort,
        httpHost: '127.0.0.1',
        httpPort: await freePort(),
        nodes: [a, b].map((g, i) => ({ id: `node${i}`, host: '127.0.0.1', mqttPort: g.mqttPort, httpPort: g.gateway.httpPort })),
        proxyProtocol: true,
        maxConnections: Math.min(1000, defaultMaxConnections()),
        checkIntervalMs: HAPROXY_DEFAULTS.checkIntervalMs,
      },
      dir,
    );
    ({ devices } = await seedContract(a, { devices: SOURCES.length * DEVICES_PER_SOURCE + 1 }));
  });
  afterAll(async () => {
    await haproxy?.stop();
    await a?.close();
    await b?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const metric = async (gw: TestGateway, name: string, labels: string) =>
    counterValues(await (await gw.api('/metrics')).text(), name).get(labels) ?? 0;
  const sourceOn = (gw: TestGateway, nth = 0) => [...nodeOfSource].filter(([, node]) => node === gw)[nth]![0];
  const holds = (gw: TestGateway, deviceId: string) =>
    (gw.gateway.broker.aedes as unknown as { clients: Record<string, unknown> }).clients[deviceId] !== undefined;
  const nodeHolding = (deviceId: string): 'a' | 'b' | 'none' | 'both' => {
    const inA = holds(a, deviceId);
    const inB = holds(b, deviceId);
    return inA && inB ? 'both' : inA ? 'a' : inB ? 'b' : 'none';
  };

  async function landings(): Promise<Map<string, string[]>> {
    const bySource = new Map<string, string[]>();
    const clients: mqtt.MqttClient[] = [];
    try {
      for (const [s, source] of SOURCES.entries()) {
        const nodes: string[] = [];
        for (let d = 0; d < DEVICES_PER_SOURCE; d++) {
          const device = devices[s * DEVICES_PER_SOURCE + d]!;
          const client = await connectDevice(haproxyPort, device, { localAddress: source });
          clients.push(client);
          nodes.push(nodeHolding(device.id));
        }
        bySource.set(source, nodes);
      }
    } finally {
      await Promise.all(clients.map((c) => c.endAsync()));
    }
    return bySource;
  }

  it('sends every connection of one source address to one node, the same one again on reconnect, and uses both nodes', async () => {
    const first = await landings();
    for (const [source, nodes] of first) {
      expect(nodes, source).toEqual(Array(DEVICES_PER_SOURCE).fill(nodes[0]));
      expect(['a', 'b']).toContain(nodes[0]);
      nodeOfSource.set(source, nodes[0] === 'a' ? a : b);
    }
    const counts = [...first.values()].map((n) => n[0]);
    figure('source addresses per node through HAProxy', { a: counts.filter((n) => n === 'a').length, b: counts.filter((n) => n === 'b').length });
    expect(new Set(counts)).toEqual(new Set(['a', 'b']));
    clock.advance(120_000); // these CONNECTs out of the flapping window
    expect(await landings()).toEqual(first);
  });

  it('bans a device flapping from one address on its node, and refuses it on the other node when it comes from an address hashing there', async () => {
    clock.advance(120_000);
    const fromA = sourceOn(a);
    const fromB = sourceOn(b);
    const flapper = devices[devices.length - 1]!;
    for (let i = 0; i <= FLAP_CONNECTS; i++) {
      const client = await connectDevice(haproxyPort, flapper, { localAddress: fromA });
      expect(nodeHolding(flapper.id)).toBe('a'); // the whole count is on one node
      await client.endAsync();
    }
    await a.gateway.flush(); // the ban is written beside the CONNECT
    const through = async (source: string) => {
      const { client, rc } = await RawMqtt.connect(haproxyPort, { clientId: flapper.id, username: flapper.id, password: flapper.token }, { localAddress: source });
      client.destroy();
      return rc;
    };
    expect(await through(fromB)).toBe(3);
    // Refused by B, which never counted a CONNECT of it.
    expect(await metric(b, 'gateway_mqtt_connections_refused_total', 'reason="banned-device"')).toBe(1);
    expect(await through(fromA)).toBe(3);

    clock.advance(BAN_MS);
    const client = await connectDevice(haproxyPort, flapper, { localAddress: fromB });
    expect(nodeHolding(flapper.id)).toBe('b');
    await client.endAsync();
  });

  it("holds an address's connection bucket on its node exactly as on one node: the connection over it is closed, by that node", async () => {
    clock.advance(120_000); // every bucket full again
    for (const [gw, other] of [[a, b], [b, a]] as const) {
      const source = sourceOn(gw, 1);
      const refused = (node: TestGateway) => metric(node, 'gateway_mqtt_connections_refused_total', 'reason="rate-limited"');
      const [before, otherBefore] = [await refused(gw), await refused(other)];
      const opened: RawMqtt[] = [];
      for (let i = 0; i < CONNECT_BURST; i++) opened.push(await RawMqtt.open(haproxyPort, { localAddress: source }));
      const over = await RawMqtt.open(haproxyPort, { localAddress: source });
      await over.closed; // closed at accept by the node, then by HAProxy
      expect(await refused(gw)).toBe(before + 1);
      expect(await refused(other)).toBe(otherBefore);
      opened.forEach((c) => c.destroy());
    }
  });

  it('bans an address after N failed authentications on its node, and a correct token still connects from it', async () => {
    clock.advance(120_000);
    const guesser = sourceOn(b, 2);
    const victim = devices[0]!;
    const attempt = async (token: string) => {
      const { client, rc } = await RawMqtt.connect(haproxyPort, { clientId: victim.id, username: victim.id, password: token }, { localAddress: guesser });
      client.destroy();
      return rc;
    };
    for (let i = 0; i <= AUTH_FAILURES; i++) expect(await attempt('f'.repeat(32))).toBe(4);
    expect(await metric(b, 'gateway_bans_total', 'reason="auth-failures"')).toBe(1);
    expect(await metric(a, 'gateway_bans_total', 'reason="auth-failures"')).toBe(0);
    expect(await attempt('e'.repeat(32))).toBe(4); // the same answer while banned: no oracle
    expect(await metric(b, 'gateway_mqtt_connections_refused_total', 'reason="banned-address"')).toBe(1);
    expect(await attempt(victim.token)).toBe(0);
    const audit = await a.json('/v1/audit?action=security.ban');
    expect(audit.items.map((e: { subject: string; details: { reason: string } }) => [e.subject, e.details.reason])).toContainEqual([guesser, 'auth-failures']);
  });
});
