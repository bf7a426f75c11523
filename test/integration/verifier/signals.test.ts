import type mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/clock.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { connectDevice, heartbeat } from '../../support/mqtt-devices.js';
import { seedContract, type SeededDevice } from '../../support/seed.js';

/** Each fraud signal, raised by the traffic that should raise it and not by honest traffic. */
const START = Date.parse('2020-11-02T08:00:00+08:00');
let gw: TestGateway;
let clock: VirtualClock;

beforeAll(async () => {
  clock = new VirtualClock(START);
  gw = await startTestGateway({ clock, env: { GATEWAY_COMMIT_INTERVAL_MS: '0' } });
});
afterAll(async () => gw?.close());

async function signalsOf(contractId: string, at = clock.now()) {
  const report = await gw.json(`/v1/contracts/${contractId}/verification?at=${encodeURIComponent(new Date(at).toISOString())}`);
  return new Map<string, string[]>(report.devices.map((d: { id: string; signals: { code: string }[] }) => [d.id, d.signals.map((s) => s.code)]));
}

/** Sends heartbeats at the given instants in time order; heartbeats sharing an instant go together. */
async function play(events: Array<{ at: number; client: mqtt.MqttClient; device: SeededDevice; payload: Record<string, unknown> }>) {
  events.sort((a, b) => a.at - b.at);
  for (let i = 0; i < events.length; ) {
    const at = events[i]!.at;
    const group = [];
    while (i < events.length && events[i]!.at === at) group.push(events[i++]!);
    clock.set(at);
    await Promise.all(group.map((e) => heartbeat(e.client, e.device.id, e.payload)));
  }
}

describe('LOCKSTEP', () => {
  it('stays silent for 200 honest devices behind one NAT address on their own timers', async () => {
    const { contractId, devices } = await seedContract(gw, { devices: 200 });
    const clients = await Promise.all(devices.map((d) => connectDevice(gw.mqttPort, d)));
    let seed = 7;
    const rand = () => ((seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff) / 0x7fffffff);
    const events = devices.flatMap((device, i) => {
      const phase = Math.floor(rand() * 60_000);
      return Array.from({ length: 40 }, (_, k) => ({
        at: START + phase + k * 60_000 + Math.round((rand() - 0.5) * 3000),
        client: clients[i]!,
        device,
        payload: { seq: k + 1 },
      }));
    });
    await play(events);
    await Promise.all(clients.map((c) => c.endAsync()));
    const signals = await signalsOf(contractId);
    const flagged = [...signals].filter(([, codes]) => codes.includes('LOCKSTEP'));
    expect(flagged).toEqual([]);
  });

  it('flags devices whose heartbeats all arrive together from one source', async () => {
    const { contractId, devices } = await seedContract(gw, { devices: 10 });
    const clients = await Promise.all(devices.map((d) => connectDevice(gw.mqttPort, d)));
    const t0 = clock.now() + 60_000;
    await play(devices.flatMap((device, i) => Array.from({ length: 40 }, (_, k) => ({ at: t0 + k * 60_000, client: clients[i]!, device, payload: { seq: k + 1 } }))));
    await Promise.all(clients.map((c) => c.endAsync()));
    const signals = await signalsOf(contractId);
    expect([...signals.values()]).toEqual(Array(10).fill(['LOCKSTEP']));
  });
});

describe('SEQ_REPLAY, CLOCK_SKEW, SESSION_TAKEOVER, DUPLICATE_SERIAL, NEVER_SEEN', () => {
  it('raises each from the traffic that implies it, and none for an honest twin', async () => {
    const { contractId, devices } = await seedContract(gw, { devices: 5 });
    const [honest, replayer, skewed, hijacked, silent] = devices as [SeededDevice, SeededDevice, SeededDevice, SeededDevice, SeededDevice];
    const base = clock.now() + 60_000;
    const c = {
      honest: await connectDevice(gw.mqttPort, honest),
      replayer: await connectDevice(gw.mqttPort, replayer),
      skewed: await connectDevice(gw.mqttPort, skewed),
    };
    for (let k = 0; k < 30; k++) {
      clock.set(base + k * 61_000);
      const now = clock.now();
      await heartbeat(c.honest, honest.id, { seq: k, ts: now });
      // replays seq 0..k-1 again every fifth minute
      clock.set(base + k * 61_000 + 9_000);
      await heartbeat(c.replayer, replayer.id, { seq: k % 5 === 4 ? k - 3 : k });
      clock.set(base + k * 61_000 + 17_000);
      await heartbeat(c.skewed, skewed.id, { seq: k, ts: new Date(clock.now() + 600_000).toISOString() });
    }
    // The same device id connecting from two loopback addresses, taking the session over each time.
    for (let k = 0; k < 4; k++) {
      clock.advance(1000);
      const client = await connectDevice(gw.mqttPort, hijacked, { localAddress: k % 2 ? '127.0.0.2' : '127.0.0.3' });
      await heartbeat(client, hijacked.id, { seq: 1 });
      if (k === 3) await client.endAsync();
    }
    await Promise.all(Object.values(c).map((x) => x.endAsync()));

    const signals = await signalsOf(contractId);
    expect(signals.get(honest.id)).toEqual([]);
    expect(signals.get(replayer.id)).toContain('SEQ_REPLAY');
    expect(signals.get(skewed.id)).toContain('CLOCK_SKEW');
    expect(signals.get(hijacked.id)).toContain('SESSION_TAKEOVER');
    expect(signals.get(silent.id)).toEqual(['NEVER_SEEN']);
  });

  it('flags a serial registered under two suppliers and counts it for neither', async () => {
    const a = await seedContract(gw, { devices: 0, serials: ['CLONE-1'], supplierName: 'Supplier A' });
    const b = await seedContract(gw, { devices: 0, serials: ['CLONE-1'], supplierName: 'Supplier B' });
    const sa = await signalsOf(a.contractId);
    const sb = await signalsOf(b.contractId);
    expect(sa.get(a.devices[0]!.id)).toContain('DUPLICATE_SERIAL');
    expect(sb.get(b.devices[0]!.id)).toContain('DUPLICATE_SERIAL');
  });
});
