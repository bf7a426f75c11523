/**
 * Load generator (its own process): mqtt.js clients publishing QoS 1 heartbeats, a fixed
 * number in flight per client, for a given duration; reports PUBACKs inside the window and
 * the ack-latency histogram (publish call → PUBACK callback).
 *
 *   BENCH_LOAD='{"url":…,"credentialsFile":…,"from":0,"to":2500,"window":2}' node --import tsx bench/load/publisher.ts
 *   (started by bench/run.ts with an IPC channel: `connected` → `go` → `published`)
 */
import { readFileSync } from 'node:fs';
import type { MqttClient } from 'mqtt';
import { connectDevice } from './connect.js';
import { createHistogram, record } from './histogram.js';
import type { LoadMessage, LoadRequest, LoadSpec } from './protocol.js';

const spec = JSON.parse(process.env.BENCH_LOAD ?? '{}') as LoadSpec;
const all = JSON.parse(readFileSync(spec.credentialsFile, 'utf8')) as { id: string; token: string }[];
const devices = all.slice(spec.from, spec.to).map((d, i) => ({ ...d, index: spec.from + i }));
const window = spec.window ?? 2;
const send = (m: LoadMessage) => process.send?.(m);
const errors: string[] = [];
const noteError = (e: unknown) => {
  if (errors.length < 5) errors.push(String((e as Error)?.message ?? e));
};

interface Device {
  id: string;
  topic: string;
  client: MqttClient;
  seq: number;
  inFlight: number;
}

function connect(device: { id: string; token: string; index: number }): Promise<Device | undefined> {
  return new Promise((resolve) => {
    const client = connectDevice(spec.url, device, spec.sources, { keepalive: 600, connectTimeout: 60_000 });
    const fail = (err: unknown) => {
      noteError(err);
      client.end(true);
      resolve(undefined);
    };
    client.once('connect', () => {
      client.off('error', fail);
      client.on('error', noteError);
      resolve({ id: device.id, topic: `v1/devices/${device.id}/heartbeat`, client, seq: 0, inFlight: 0 });
    });
    client.once('error', fail);
    client.once('close', () => resolve(undefined));
  });
}

const connected: Device[] = [];
const concurrency = spec.connectConcurrency ?? 250;
for (let i = 0; i < devices.length; i += concurrency) {
  const batch = await Promise.all(devices.slice(i, i + concurrency).map(connect));
  for (const d of batch) if (d) connected.push(d);
}
let disconnects = 0;
for (const d of connected) d.client.on('close', () => disconnects++);
send({ type: 'connected', clients: connected.length, failed: devices.length - connected.length, errors });

async function run(durationMs: number, ratePerSecond: number | undefined): Promise<void> {
  const histogram = createHistogram();
  let sent = 0;
  let ackedInWindow = 0;
  let ackedTotal = 0;
  let outstanding = 0;
  let running = true;
  const started = performance.now();
  const endsAt = started + durationMs;
  let drained: () => void = () => undefined;

  const publish = (d: Device) => {
    const seq = ++d.seq;
    // The payload of ../shared/API.md: seq, the device's own ts, status and one metric.
    const payload = Buffer.from(`{"seq":${seq},"ts":${Date.now()},"status":"running","metrics":{"spindleRpm":${1200 + (seq % 50)}}}`);
    const t0 = performance.now();
    sent++;
    outstanding++;
    d.inFlight++;
    d.client.publish(d.topic, payload, { qos: 1 }, (err) => {
      outstanding--;
      d.inFlight--;
      const t1 = performance.now();
      if (err) noteError(err);
      else {
        ackedTotal++;
        if (t1 <= endsAt) {
          ackedInWindow++;
          record(histogram, t1 - t0);
        }
      }
      if (running && !err && t1 < endsAt && ratePerSecond === undefined) publish(d);
      else if (!running && outstanding === 0) drained();
    });
  };
  let skipped = 0;
  let pacer: NodeJS.Timeout | undefined;
  if (ratePerSecond === undefined) {
    for (let k = 0; k < window; k++) for (const d of connected) publish(d);
  } else if (connected.length > 0) {
    // Every 5 ms, the publishes due by now: a steady rate, whatever the acks do.
    let due = 0;
    let next = 0;
    pacer = setInterval(() => {
      const target = Math.floor(((performance.now() - started) / 1000) * ratePerSecond);
      for (; due < target; due++) {
        const d = connected[next++ % connected.length]!;
        if (d.inFlight < window) publish(d);
        else skipped++;
      }
    }, 5);
  }
  await new Promise((r) => setTimeout(r, durationMs));
  clearInterval(pacer);
  running = false;
  // Let what is in flight finish (not counted in the window) so the broker is idle for the next round.
  await new Promise<void>((resolve) => {
    if (outstanding === 0) return resolve();
    drained = resolve;
    setTimeout(resolve, 10_000);
  });
  send({
    type: 'published',
    sent,
    ackedInWindow,
    ackedTotal,
    durationMs,
    histogram: Array.from(histogram),
    disconnects,
    skipped,
    errors,
  });
}

process.on('message', (m: LoadRequest) => {
  if (m.type === 'go') void run(m.durationMs, m.ratePerSecond);
  else if (m.type === 'stop') {
    for (const d of connected) d.client.end(true);
    process.disconnect?.();
    setTimeout(() => process.exit(0), 100).unref();
  }
});
process.on('disconnect', () => setTimeout(() => process.exit(0), 200).unref());
