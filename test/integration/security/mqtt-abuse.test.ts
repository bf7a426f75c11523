import mqttPacket from 'mqtt-packet';
import net from 'node:net';
import type mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/clock.js';
import { RawMqtt, counterValues, encodeConnect, encodePublish, figure, percentile } from '../../support/fuzz.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { connectDevice } from '../../support/mqtt-devices.js';
import { seedContract, type SeededDevice } from '../../support/seed.js';

/**
 * Raw MQTT abuse (issue item 2) while honest devices keep publishing QoS 1 heartbeats: the
 * gateway must close each abuser, store nothing of theirs, and keep acknowledging the honest
 * devices; their ack latency during the abuse is measured and reported.
 */
const CONNECT_TIMEOUT_MS = 500;
const DRAIN_TIMEOUT_MS = 1000;

let gw: TestGateway;
let clock: VirtualClock;
let honest: SeededDevice[];
let abuser: SeededDevice;

beforeAll(async () => {
  clock = new VirtualClock('2020-10-09T08:00:00+08:00');
  gw = await startTestGateway({
    clock,
    env: {
      GATEWAY_MQTT_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
      GATEWAY_MQTT_DRAIN_TIMEOUT_MS: String(DRAIN_TIMEOUT_MS),
      // Flood control has its own test; here every abuser must get through to the broker.
      GATEWAY_DEVICE_MAX_RATE_PER_MIN: '0',
      GATEWAY_CONN_RATE_PER_ADDR: '0',
      GATEWAY_FLAP_CONNECTS: '0',
    },
  });
  const seeded = await seedContract(gw, { devices: 4 });
  honest = seeded.devices.slice(0, 3);
  abuser = seeded.devices[3]!;
});
afterAll(async () => gw?.close());

/** Resolves with how long the socket stayed open, or rejects after `limitMs`. */
function closedWithin(socket: net.Socket | RawMqtt, limitMs: number): Promise<number> {
  const started = performance.now();
  const closed = socket instanceof RawMqtt ? socket.closed : new Promise<void>((r) => (socket.destroyed ? r() : socket.once('close', () => r())));
  return Promise.race([
    closed.then(() => performance.now() - started),
    new Promise<number>((_, reject) => setTimeout(() => reject(new Error(`still open after ${limitMs} ms`)), limitMs).unref()),
  ]);
}

function rawSocket(): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.createConnection({ port: gw.mqttPort, host: '127.0.0.1' });
    s.on('error', () => undefined);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

async function abuserConnected(): Promise<RawMqtt> {
  const { client, rc } = await RawMqtt.connect(gw.mqttPort, { clientId: abuser.id, username: abuser.id, password: abuser.token });
  expect(rc).toBe(0);
  return client;
}

async function storedHeartbeats(deviceId: string): Promise<number> {
  await gw.gateway.flush();
  const rows = await gw.gateway.store.dailyActivity([deviceId], '2020-10-09', '2020-10-09');
  return rows.reduce((n, r) => n + r.heartbeats, 0);
}

/** Honest devices: QoS 1 heartbeats every few ms, recording each ack's latency. */
function honestLoad(clients: mqtt.MqttClient[]) {
  const latencies: number[] = [];
  const acked = new Map<string, number>();
  let failures = 0;
  let running = true;
  const loops = clients.map(async (client, i) => {
    const id = honest[i]!.id;
    let seq = 0;
    while (running) {
      const started = performance.now();
      try {
        await client.publishAsync(`v1/devices/${id}/heartbeat`, JSON.stringify({ seq: ++seq }), { qos: 1 });
        latencies.push(performance.now() - started);
        acked.set(id, (acked.get(id) ?? 0) + 1);
      } catch {
        failures++;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  });
  return {
    latencies,
    acked,
    failures: () => failures,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

describe('raw MQTT abuse while honest devices publish', () => {
  it('closes every abuser, stores nothing of theirs, and keeps serving honest devices', async () => {
    const clients = await Promise.all(honest.map((d) => connectDevice(gw.mqttPort, d)));
    const load = honestLoad(clients);
    const outcomes: Record<string, number> = {};
    const before = await gw.gateway.metrics.registry.metrics();
    const rssBefore = process.memoryUsage().rss;

    // Truncated packets: half a CONNECT, then nothing more (closed by the connect timeout) or EOF.
    for (let i = 0; i < 20; i++) {
      const s = await rawSocket();
      const connect = encodeConnect({ clientId: abuser.id, username: abuser.id, password: abuser.token });
      s.write(connect.subarray(0, Math.max(1, (i * 7) % connect.length)));
      if (i % 2) s.end();
      outcomes[`truncated CONNECT #${i} ms`] = await closedWithin(s, CONNECT_TIMEOUT_MS * 6);
    }

    // A truncated PUBLISH after a valid CONNECT, then EOF.
    {
      const c = await abuserConnected();
      c.write(encodePublish(`v1/devices/${abuser.id}/heartbeat`, Buffer.from('{"seq":1}'), 0).subarray(0, 12));
      c.socket.end();
      outcomes['truncated PUBLISH ms'] = await closedWithin(c, 3000);
    }

    // Oversized remaining length: a CONNECT and a PUBLISH declaring 256 MB, then 4 MB of junk.
    for (const [name, header] of [
      ['256 MB CONNECT', [0x10, 0x80, 0x80, 0x80, 0x01]],
      ['256 MB PUBLISH', [0x30, 0xff, 0xff, 0xff, 0x7f]],
    ] as const) {
      const c = name.includes('PUBLISH') ? (await abuserConnected()).socket : await rawSocket();
      c.write(Buffer.from(header));
      const junk = Buffer.alloc(64 * 1024, 0x61);
      for (let k = 0; k < 64 && !c.destroyed; k++) c.write(junk);
      outcomes[`${name} ms`] = await closedWithin(c, 3000);
    }

    // A fifth remaining-length byte [MQTT-2.2.3].
    {
      const s = await rawSocket();
      s.write(Buffer.from([0x30, 0x80, 0x80, 0x80, 0x80, 0x01]));
      outcomes['malformed length ms'] = await closedWithin(s, 3000);
    }

    // CONNECT without credentials: CONNACK 4 (bad user name or password), then closed.
    {
      const { client, rc } = await RawMqtt.connect(gw.mqttPort, { clientId: abuser.id });
      expect(rc).toBe(4);
      outcomes['CONNECT without credentials ms'] = await closedWithin(client, 3000);
    }

    // PUBLISH before CONNECT: closed, nothing stored.
    {
      const c = await RawMqtt.open(gw.mqttPort);
      c.publish0(`v1/devices/${abuser.id}/heartbeat`, Buffer.from('{"seq":5}'));
      outcomes['PUBLISH before CONNECT ms'] = await closedWithin(c, 3000);
    }

    // A 1,000-level topic from an authenticated device: closed.
    {
      const c = await abuserConnected();
      const outcome = await c.publish1(Array.from({ length: 1000 }, () => 'a').join('/'), Buffer.from('{"seq":6}'));
      expect(outcome).toBe('closed');
      outcomes['1000-level topic ms'] = await closedWithin(c, 3000);
    }

    // A client that never sends CONNECT: closed by the connect timeout.
    {
      const s = await rawSocket();
      const ms = await closedWithin(s, CONNECT_TIMEOUT_MS * 6);
      expect(ms).toBeGreaterThanOrEqual(CONNECT_TIMEOUT_MS * 0.8);
      outcomes['silent client ms'] = ms;
    }

    // A slow reader: subscribed to its command topic, never reads; the broker's writes back up
    // and the drain timeout closes it.
    {
      const c = await abuserConnected();
      const topic = `v1/devices/${abuser.id}/commands/config`;
      c.write(mqttPacket.generate({ cmd: 'subscribe', messageId: 7, subscriptions: [{ topic, qos: 0 }] } as mqttPacket.ISubscribePacket));
      await new Promise((r) => setTimeout(r, 100));
      // The client never reads again, so it cannot see the close itself: watch the broker's side.
      const started = performance.now();
      const dropped = new Promise<number>((resolve) => {
        const onGone = (client: { id: string }) => {
          if (client.id !== abuser.id) return;
          gw.gateway.broker.aedes.off('clientDisconnect', onGone);
          resolve(performance.now() - started);
        };
        gw.gateway.broker.aedes.on('clientDisconnect', onGone);
      });
      c.socket.pause();
      const payload = Buffer.alloc(1024 * 1024, 0x62);
      let gone = false;
      void dropped.then(() => (gone = true));
      for (let k = 0; k < 32 && !gone; k++) {
        gw.gateway.broker.aedes.publish({ cmd: 'publish', topic, payload, qos: 0, retain: false, dup: false } as never, () => undefined);
        await new Promise((r) => setTimeout(r, 20));
      }
      outcomes['slow reader ms'] = await Promise.race([
        dropped,
        new Promise<number>((_, reject) => setTimeout(() => reject(new Error('slow reader still connected')), DRAIN_TIMEOUT_MS * 10).unref()),
      ]);
      c.destroy();
    }

    await new Promise((r) => setTimeout(r, 300));
    await load.stop();
    await Promise.all(clients.map((c) => c.endAsync()));

    // Honest devices: nothing failed, every ack stored; the abuser stored nothing.
    expect(load.failures()).toBe(0);
    for (const d of honest) expect(await storedHeartbeats(d.id), `stored for ${d.id}`).toBe(load.acked.get(d.id));
    expect(await storedHeartbeats(abuser.id)).toBe(0);
    const after = await gw.gateway.metrics.registry.metrics();
    const refused = counterValues(after, 'gateway_mqtt_connections_refused_total');
    expect(Object.fromEntries(refused)).toEqual({ 'reason="oversized-packet"': 2, 'reason="malformed-length"': 1 });
    expect(refused.get('reason="malformed-length"')).toBe(1);
    expect(counterValues(before, 'gateway_mqtt_connections_refused_total').size).toBe(0);
    // Nothing near 256 MB was buffered.
    const rssGrowthMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
    expect(rssGrowthMb).toBeLessThan(128);

    const p50 = percentile(load.latencies, 50);
    const p99 = percentile(load.latencies, 99);
    expect(load.latencies.length).toBeGreaterThan(100);
    expect(p99).toBeLessThan(1000);
    figure('honest ack latency under abuse', {
      acks: load.latencies.length,
      p50Ms: Math.round(p50 * 10) / 10,
      p99Ms: Math.round(p99 * 10) / 10,
      maxMs: Math.round(Math.max(...load.latencies)),
      rssGrowthMb: Math.round(rssGrowthMb),
    });
    figure('abuser closed after', Object.fromEntries(Object.entries(outcomes).filter(([k]) => !k.startsWith('truncated CONNECT #')).map(([k, v]) => [k, Math.round(v)])));
  }, 120_000);
});
