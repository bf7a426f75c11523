/**
 * edge (issue 20): heartbeats per second through ONE edge connection reporting for 500 devices
 * (Sparkplug B DDATA, protobuf) against 500 direct device connections (JSON heartbeats), in
 * the same run, alternating, each in a fresh gateway process; and the gateway's memory per
 * device for both (RSS after forced GCs, with the devices connected — or born behind the edge
 * node — and idle, minus the RSS before, ÷ 500).
 *
 * Both sides publish at QoS 1 with the same number of messages in flight (one per direct
 * device; 500 on the edge connection), so each PUBACK means a durable commit and the two
 * rates compare like for like. The load runs in this process (mqtt.js); the server's CPU per
 * committed heartbeat is read inside the server and does not depend on the load.
 */
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import mqtt from 'mqtt';
import { SparkplugEdgeNode } from '../simulators/edge/sparkplug-edge-node.js';
import { BENCH_GATEWAY_ENV, median, sleep, startServer, type ServerHandle } from './harness.js';
import type { BenchDevice } from './servers/seed-registry.js';

export interface EdgeRound {
  path: 'direct' | 'edge';
  round: number;
  devices: number;
  perSecond: number;
  cpuUsPerHeartbeat: number;
  bytesPerDevice: number;
}

function connect(port: number, device: BenchDevice): Promise<mqtt.MqttClient> {
  return new Promise((resolve, reject) => {
    const client = new mqtt.MqttClient(() => net.createConnection({ port, host: '127.0.0.1' }), {
      clientId: device.id, username: device.id, password: device.token, reconnectPeriod: 0, connectTimeout: 30_000,
    });
    client.once('connect', () => resolve(client));
    client.once('error', reject);
  });
}

/** Keeps `inFlight` QoS 1 publishes outstanding until `durationMs` has passed. */
async function drive(inFlight: number, durationMs: number, publish: (i: number, seq: number) => Promise<unknown>): Promise<void> {
  const until = performance.now() + durationMs;
  await Promise.all(
    Array.from({ length: inFlight }, async (_, i) => {
      for (let seq = 1; performance.now() < until; seq++) await publish(i, seq);
    }),
  );
}

async function measure(server: ServerHandle, run: () => Promise<void>): Promise<{ perSecond: number; cpuUsPerHeartbeat: number }> {
  const before = await server.stats();
  await run();
  const after = await server.stats();
  const messages = after.messages - before.messages;
  return { perSecond: messages / ((after.at - before.at) / 1000), cpuUsPerHeartbeat: ((after.cpuMs - before.cpuMs) * 1000) / messages };
}

async function directRound(round: number, devices: number, durationMs: number): Promise<EdgeRound> {
  const server = await startServer('gateway', { ...BENCH_GATEWAY_ENV, BENCH_DEVICES: String(devices) });
  try {
    const credentials = JSON.parse(readFileSync(server.credentialsFile!, 'utf8')) as BenchDevice[];
    const baseline = await server.stats(true);
    const clients: mqtt.MqttClient[] = [];
    for (const device of credentials) clients.push(await connect(server.port, device));
    await sleep(500);
    const idle = await server.stats(true);
    const rate = await measure(server, () =>
      drive(devices, durationMs, (i, seq) =>
        clients[i]!.publishAsync(`v1/devices/${credentials[i]!.id}/heartbeat`, JSON.stringify({ seq, metrics: { temperature: 20 + (seq % 100) / 10, spindle: 1200 + i } }), { qos: 1 }),
      ),
    );
    await Promise.all(clients.map((c) => c.endAsync()));
    return { path: 'direct', round, devices, ...rate, bytesPerDevice: (idle.rssBytes - baseline.rssBytes) / devices };
  } finally {
    await server.stop();
  }
}

async function edgeRound(round: number, devices: number, durationMs: number): Promise<EdgeRound> {
  const server = await startServer('gateway', { ...BENCH_GATEWAY_ENV, BENCH_DEVICES: '0', BENCH_EDGE_DEVICES: String(devices) });
  try {
    const edge = JSON.parse(readFileSync(join(dirname(server.credentialsFile!), 'edge.json'), 'utf8')) as { id: string; token: string; devices: string[] };
    const baseline = await server.stats(true);
    const node = await new SparkplugEdgeNode(edge, { port: server.port, group: 'bench' }).connect();
    await node.nbirth();
    await Promise.all(edge.devices.map((d, i) => node.dbirth(d, { temperature: 20, spindle: 1200 + i }, 1)));
    await sleep(500);
    const idle = await server.stats(true);
    const rate = await measure(server, () =>
      drive(devices, durationMs, (i, seq) => node.ddata(edge.devices[i]!, { temperature: 20 + (seq % 100) / 10, spindle: 1200 + i }, 1)),
    );
    await node.shutdown();
    return { path: 'edge', round, devices, ...rate, bytesPerDevice: (idle.rssBytes - baseline.rssBytes) / devices };
  } finally {
    await server.stop();
  }
}

export async function runEdge(options: { devices: number; durationMs: number; rounds: number; log: (s: string) => void }) {
  const rounds: EdgeRound[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    // Alternating, the edge first in odd rounds: neither side always gets the warmer machine.
    const order = round % 2 === 1 ? [edgeRound, directRound] : [directRound, edgeRound];
    for (const play of order) {
      const r = await play(round, options.devices, options.durationMs);
      options.log(
        `  round ${round} ${r.path.padEnd(6)} ${Math.round(r.perSecond).toLocaleString('en')} heartbeats/s, ${r.cpuUsPerHeartbeat.toFixed(1)} µs server CPU each, ` +
          `${(r.bytesPerDevice / 1024).toFixed(1)} KiB RSS per device`,
      );
      rounds.push(r);
    }
  }
  const of = (path: EdgeRound['path']) => rounds.filter((r) => r.path === path);
  const summary = (path: EdgeRound['path']) => ({
    perSecond: median(of(path).map((r) => r.perSecond)),
    cpuUsPerHeartbeat: median(of(path).map((r) => r.cpuUsPerHeartbeat)),
    bytesPerDevice: median(of(path).map((r) => r.bytesPerDevice)),
  });
  return { rounds, edge: summary('edge'), direct: summary('direct') };
}
