/**
 * Limits across nodes behind a real HAProxy (issue 17, points 1 and 4; README "Limits across
 * nodes"): two gateway nodes on one PostgreSQL registry behind HAProxy in `mode tcp` with
 * `balance source` and `hash-type consistent`. What the per-node limits rest on is checked where
 * it happens: every connection from one source address reaches the same node, so that node's
 * per-address count is the address's whole count; and a device banned for flapping on the node
 * its address hashes to is refused on the other node when it comes from an address hashing there.
 * The test reads which node holds each connection from the nodes themselves, so it does not
 * depend on the PROXY protocol (without it each node sees HAProxy's address).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultMaxConnections, HAPROXY_DEFAULTS, startHaproxy, type RunningHaproxy } from '../../cluster/haproxy.js';
import { VirtualClock } from '../../src/clock.js';
import { counterValues, figure, RawMqtt } from '../support/fuzz.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { connectDevice } from '../support/mqtt-devices.js';
import { createDatabase } from '../support/postgres.js';
import { freePort } from '../support/process.js';
import { seedContract, type SeededDevice } from '../support/seed.js';

const FLAP_CONNECTS = 3;
const BAN_MS = 30_000;
/** Client source addresses (any of 127.0.0.0/8 works on loopback) and devices per address. */
const SOURCES = Array.from({ length: 16 }, (_, i) => `127.0.4.${i + 1}`);
const DEVICES_PER_SOURCE = 3;

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
    const server = inject('postgresUrl');
    if (!server) throw new Error('no PostgreSQL (test/integration/global-setup.ts)');
    const url = await createDatabase(server, 'cluster_haproxy');
    const env = (node: string) => ({
      GATEWAY_DATABASE_URL: url,
      GATEWAY_STORE: 'postgres',
      GATEWAY_NODE_ID: node,
      GATEWAY_FLAP_CONNECTS: String(FLAP_CONNECTS),
      GATEWAY_FLAP_WINDOW_S: '60',
      GATEWAY_BAN_SECONDS: String(BAN_MS / 1000),
    });
    a = await startTestGateway({ clock, env: env('node-a') });
    b = await startTestGateway({ clock, env: env('node-b') });
    // The cluster's HAProxy configuration (cluster/haproxy.ts) without PROXY protocol: the test
    // reads from the nodes which one holds each connection, not which address they saw.
    haproxyPort = await freePort();
    haproxy = await startHaproxy(
      {
        mqttHost: '127.0.0.1',
        mqttPort: haproxyPort,
        httpHost: '127.0.0.1',
        httpPort: await freePort(),
        nodes: [a, b].map((g, i) => ({ id: `node${i}`, host: '127.0.0.1', mqttPort: g.mqttPort, httpPort: g.gateway.httpPort })),
        proxyProtocol: false,
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
    const sourceOn = (gw: TestGateway) => [...nodeOfSource].find(([, node]) => node === gw)![0];
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
    const refusedOnB = async () => counterValues(await (await b.api('/metrics')).text(), 'gateway_mqtt_connections_refused_total').get('reason="banned-device"') ?? 0;
    expect(await through(fromB)).toBe(3);
    expect(await refusedOnB()).toBe(1); // refused by B, which never counted a CONNECT of it
    expect(await through(fromA)).toBe(3);

    clock.advance(BAN_MS);
    const client = await connectDevice(haproxyPort, flapper, { localAddress: fromB });
    expect(nodeHolding(flapper.id)).toBe('b');
    await client.endAsync();
  });
});
