/**
 * A Sparkplug B edge gateway in real time, for suppliers trying their edge node by hand
 * (README "Connecting through an edge gateway"):
 *
 *   npm run -s edge-gateway -- --host 127.0.0.1 --port 1883 --edge-node edg_… --token … \
 *     --devices d3f…,d41… [--group factory] [--interval 60]
 *
 * Connects with its NDEATH as the MQTT will, publishes NBIRTH, a DBIRTH per device, then a
 * DDATA per device every `interval` seconds (a temperature random walk and a spindle speed);
 * Ctrl-C publishes NDEATH and disconnects. Killing it (kill -9) lets the broker publish the will.
 */
import { parseArgs } from 'node:util';
import { systemClock } from '../../src/clock.js';
import { SparkplugEdgeNode } from './sparkplug-edge-node.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '1883' },
      'edge-node': { type: 'string' },
      token: { type: 'string' },
      devices: { type: 'string', default: '' },
      group: { type: 'string', default: 'factory' },
      interval: { type: 'string', default: '60' },
      'bd-seq': { type: 'string', default: '0' },
    },
  });
  const id = values['edge-node'];
  const token = values.token;
  if (!id || !token) throw new Error('--edge-node and --token are required (POST /v1/contracts/{id}/edge-nodes returns both)');
  const devices = values.devices.split(',').filter(Boolean);
  const intervalMs = Number(values.interval) * 1000;
  const node = new SparkplugEdgeNode({ id, token }, {
    host: values.host,
    port: Number(values.port),
    group: values.group,
    bdSeq: Number(values['bd-seq']),
    now: () => systemClock.now(),
  });
  await node.connect();
  await node.nbirth({ devices: devices.length });
  const temperature = new Map(devices.map((d, i) => [d, 20 + i]));
  const reading = (d: string, i: number) => {
    const t = Math.round((temperature.get(d)! + (Math.random() - 0.5)) * 100) / 100;
    temperature.set(d, t);
    return { temperature: t, spindle: 1200 + i * 10, status: 'running' };
  };
  for (const [i, d] of devices.entries()) await node.dbirth(d, reading(d, i), 1);
  process.stdout.write(`edge node ${id} born (bdSeq ${node.bdSeq}) with ${devices.length} devices; DDATA every ${values.interval} s\n`);
  const timer = setInterval(() => {
    for (const [i, d] of devices.entries()) void node.ddata(d, reading(d, i));
  }, intervalMs);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  clearInterval(timer);
  await node.shutdown();
  process.stdout.write(`edge node ${id}: NDEATH sent, disconnected\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`edge gateway failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
