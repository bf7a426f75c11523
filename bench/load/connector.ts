/**
 * Connection load (its own process), two modes driven over IPC by bench/run.ts:
 *
 * - `go`: the connect storm — every client of this process's slice calls connect in the same
 *   tick; reports the first connect time and the last CONNACK time (epoch ms, comparable across
 *   processes) and the per-client connect-latency histogram.
 * - `connect` {count}: connects the next `count` clients (250 at a time) and keeps them idle,
 *   for the memory benchmark; reports `connected`.
 */
import { readFileSync } from 'node:fs';
import type { MqttClient } from 'mqtt';
import { connectDevice } from './connect.js';
import { nowEpochMs } from '../servers/ipc.js';
import { createHistogram, record } from './histogram.js';
import type { LoadMessage, LoadRequest, LoadSpec } from './protocol.js';

const spec = JSON.parse(process.env.BENCH_LOAD ?? '{}') as LoadSpec;
const all = JSON.parse(readFileSync(spec.credentialsFile, 'utf8')) as { id: string; token: string }[];
const devices = all.slice(spec.from, spec.to).map((d, i) => ({ ...d, index: spec.from + i }));
const send = (m: LoadMessage) => process.send?.(m);
const errors: string[] = [];
const noteError = (e: unknown) => {
  if (errors.length < 5) errors.push(String((e as Error)?.message ?? e));
};
const clients: MqttClient[] = [];

/** Resolves with the CONNACK time, or undefined when the connection failed. */
function connect(device: { id: string; token: string; index: number }): Promise<number | undefined> {
  return new Promise((resolve) => {
    const client = connectDevice(spec.url, device, spec.sources, { keepalive: 3600, connectTimeout: 120_000 });
    clients.push(client);
    client.once('connect', () => {
      client.on('error', noteError);
      resolve(nowEpochMs());
    });
    client.once('error', (err) => {
      noteError(err);
      resolve(undefined);
    });
    client.once('close', () => resolve(undefined));
  });
}

async function storm(): Promise<void> {
  const histogram = createHistogram();
  const startedAt = nowEpochMs();
  const results = await Promise.all(
    devices.map((d) =>
      connect(d).then((at) => {
        if (at !== undefined) record(histogram, at - startedAt);
        return at;
      }),
    ),
  );
  const ok = results.filter((t): t is number => t !== undefined);
  send({
    type: 'storm',
    requested: devices.length,
    connected: ok.length,
    failed: devices.length - ok.length,
    startedAt,
    lastConnackAt: ok.length ? Math.max(...ok) : startedAt,
    histogram: Array.from(histogram),
    errors,
  });
}

let next = 0;
let live = 0;
async function connectMore(count: number): Promise<void> {
  const slice = devices.slice(next, next + count);
  next += slice.length;
  let failed = 0;
  for (let i = 0; i < slice.length; i += 250) {
    const results = await Promise.all(slice.slice(i, i + 250).map(connect));
    failed += results.filter((t) => t === undefined).length;
  }
  live += slice.length - failed;
  send({ type: 'connected', clients: live, failed, errors });
}

process.on('message', (m: LoadRequest) => {
  if (m.type === 'go') void storm();
  else if (m.type === 'connect') void connectMore(m.count);
  else if (m.type === 'stop') {
    for (const c of clients) c.end(true);
    process.disconnect?.();
    setTimeout(() => process.exit(0), 100).unref();
  }
});
process.on('disconnect', () => setTimeout(() => process.exit(0), 200).unref());
send({ type: 'connected', clients: 0, failed: 0, errors });
