import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/clock.js';
import { RawMqtt, counterValues } from '../../support/fuzz.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { connectDevice, heartbeat } from '../../support/mqtt-devices.js';
import { seedContract, type SeededDevice } from '../../support/seed.js';

/**
 * Flood control end to end (issue item 3), on the injected clock: per-device heartbeat rate,
 * per-address connection rate, flapping devices; each visible in /metrics and the audit log.
 */
let gw: TestGateway;
let clock: VirtualClock;
let devices: SeededDevice[];

beforeAll(async () => {
  clock = new VirtualClock('2020-10-09T08:00:30+08:00');
  gw = await startTestGateway({
    clock,
    env: {
      GATEWAY_DEVICE_MAX_RATE_PER_MIN: '60',
      GATEWAY_DEVICE_BURST: '5',
      GATEWAY_CONN_RATE_PER_ADDR: '5',
      GATEWAY_CONN_RATE_WINDOW_S: '10',
      GATEWAY_CONN_BURST_PER_ADDR: '5',
      GATEWAY_AUTH_FAILURES_PER_ADDR: '5',
      GATEWAY_FLAP_CONNECTS: '3',
      GATEWAY_FLAP_WINDOW_S: '60',
      GATEWAY_BAN_SECONDS: '30',
    },
  });
  ({ devices } = await seedContract(gw, { devices: 4 }));
});
afterAll(async () => gw?.close());

async function metric(name: string, labels: string): Promise<number> {
  const text = await (await gw.api('/metrics')).text();
  return counterValues(text, name).get(labels) ?? 0;
}

describe('flood control', () => {
  it('drops heartbeats above the per-device rate, counts them, and never inflates online minutes', async () => {
    const device = devices[0]!;
    const client = await connectDevice(gw.mqttPort, device, { localAddress: '127.0.0.11' });
    for (let seq = 1; seq <= 100; seq++) await heartbeat(client, device.id, { seq }); // all PUBACKed
    clock.advance(60_000); // refills 60 tokens, capped at the burst of 5
    for (let seq = 101; seq <= 110; seq++) await heartbeat(client, device.id, { seq });
    await client.endAsync();
    await gw.gateway.flush();
    const [row] = await gw.gateway.store.dailyActivity([device.id], '2020-10-09', '2020-10-09');
    expect(row).toMatchObject({ heartbeats: 10 });
    let online = 0;
    for (let m = 0; m < 1440; m++) online += (row!.minuteMap![m >> 3]! >> (m & 7)) & 1;
    expect(online).toBe(2);
    expect(await metric('gateway_heartbeats_rejected_total', 'reason="rate-limited"')).toBe(100);
  });

  it("closes connections above an address's bucket at accept, bans nobody for it, and admits again as tokens refill", async () => {
    const busy = '127.0.0.22';
    const opened: RawMqtt[] = [];
    for (let i = 0; i < 5; i++) opened.push(await RawMqtt.open(gw.mqttPort, { localAddress: busy }));
    const sixth = await RawMqtt.open(gw.mqttPort, { localAddress: busy });
    await sixth.closed; // destroyed at accept, before a byte is read
    expect(await metric('gateway_mqtt_connections_refused_total', 'reason="rate-limited"')).toBe(1);
    expect(await metric('gateway_bans_total', 'reason="auth-failures"')).toBe(0);

    // An honest device from another address is not affected.
    const other = await connectDevice(gw.mqttPort, devices[1]!, { localAddress: '127.0.0.23' });
    await other.endAsync();

    clock.advance(1_999); // 5 per 10 s: one token every 2 s
    const early = await RawMqtt.open(gw.mqttPort, { localAddress: busy });
    await early.closed;
    clock.advance(1);
    const { client, rc } = await RawMqtt.connect(gw.mqttPort, { clientId: devices[1]!.id, username: devices[1]!.id, password: devices[1]!.token }, { localAddress: busy });
    expect(rc).toBe(0);
    await client.end();
    opened.forEach((c) => c.destroy());
  });

  it('bans an address after N failed authentications, yet a correct token still connects from it; the ban is audited', async () => {
    const guesser = '127.0.0.24';
    for (let i = 0; i < 6; i++) {
      clock.advance(2_000); // stay inside the connection bucket
      const { client, rc } = await RawMqtt.connect(gw.mqttPort, { clientId: devices[1]!.id, username: devices[1]!.id, password: 'f'.repeat(32) }, { localAddress: guesser });
      expect(rc).toBe(4);
      client.destroy();
    }
    expect(await metric('gateway_bans_total', 'reason="auth-failures"')).toBe(1);
    expect(await metric('gateway_mqtt_connections_refused_total', 'reason="banned-address"')).toBe(0);
    clock.advance(2_000);
    const { client: wrong, rc: wrongRc } = await RawMqtt.connect(gw.mqttPort, { clientId: devices[1]!.id, username: devices[1]!.id, password: 'e'.repeat(32) }, { localAddress: guesser });
    expect(wrongRc).toBe(4); // the same answer as before the ban: no oracle
    wrong.destroy();
    expect(await metric('gateway_mqtt_connections_refused_total', 'reason="banned-address"')).toBe(1);
    clock.advance(2_000);
    const { client, rc } = await RawMqtt.connect(gw.mqttPort, { clientId: devices[1]!.id, username: devices[1]!.id, password: devices[1]!.token }, { localAddress: guesser });
    expect(rc).toBe(0);
    await client.end();
    const audit = await gw.json('/v1/audit?action=security.ban');
    expect(audit.items.map((e: { subject: string; details: { reason: string } }) => [e.subject, e.details.reason])).toContainEqual([guesser, 'auth-failures']);
  });

  it('bans a flapping device after N successful connects in M seconds; only that device, only for the ban time', async () => {
    const flapper = devices[2]!;
    for (let i = 0; i < 4; i++) {
      const c = await connectDevice(gw.mqttPort, flapper, { localAddress: `127.0.1.${i + 1}` });
      await c.endAsync();
    }
    await expect(connectDevice(gw.mqttPort, flapper, { localAddress: '127.0.1.9' })).rejects.toThrow(/unavailable/i);
    expect(await metric('gateway_bans_total', 'reason="flapping"')).toBe(1);
    expect(await metric('gateway_mqtt_connections_refused_total', 'reason="banned-device"')).toBe(1);
    // A wrong token does not count towards a ban; another device is unaffected.
    const neighbour = await connectDevice(gw.mqttPort, devices[3]!, { localAddress: '127.0.1.10' });
    await neighbour.endAsync();
    clock.advance(30_000);
    const back = await connectDevice(gw.mqttPort, flapper, { localAddress: '127.0.1.11' });
    await back.endAsync();
  });

  it('does not let wrong-token CONNECTs get an honest device banned', async () => {
    const victim = devices[3]!;
    for (let i = 0; i < 10; i++) {
      await expect(connectDevice(gw.mqttPort, { id: victim.id, token: 'f'.repeat(32) }, { localAddress: `127.0.2.${i + 1}` })).rejects.toThrow();
    }
    const c = await connectDevice(gw.mqttPort, victim, { localAddress: '127.0.2.99' });
    await c.endAsync();
  });
});
