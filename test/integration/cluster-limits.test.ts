/**
 * Limits across nodes (issue 17, point 4; README "Limits across nodes"): two gateway nodes on one
 * PostgreSQL registry, one injected clock. Flapping is counted per node and the ban is shared
 * through the registry; the heartbeat rate is kept per node, keyed by device.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/clock.js';
import { counterValues, RawMqtt } from '../support/fuzz.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { connectDevice, heartbeat } from '../support/mqtt-devices.js';
import { clusterNodeEnv, testDatabase } from '../support/postgres.js';
import { seedContract, type SeededDevice } from '../support/seed.js';

const FLAP_CONNECTS = 3;
const BAN_MS = 30_000;
const BURST = 5;

describe('limits across two nodes sharing one PostgreSQL registry', () => {
  const clock = new VirtualClock('2020-10-09T08:00:30+08:00');
  let a: TestGateway;
  let b: TestGateway;
  let devices: SeededDevice[];

  beforeAll(async () => {
    const url = await testDatabase('cluster_limits');
    const env = (node: string) => ({
      ...clusterNodeEnv(url, node),
      GATEWAY_FLAP_CONNECTS: String(FLAP_CONNECTS),
      GATEWAY_FLAP_WINDOW_S: '60',
      GATEWAY_BAN_SECONDS: String(BAN_MS / 1000),
      GATEWAY_DEVICE_MAX_RATE_PER_MIN: '60',
      GATEWAY_DEVICE_BURST: String(BURST),
    });
    a = await startTestGateway({ clock, env: env('node-a') });
    b = await startTestGateway({ clock, env: env('node-b') });
    ({ devices } = await seedContract(a, { devices: 4 }));
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  async function metric(gw: TestGateway, name: string, labels: string): Promise<number> {
    return counterValues(await (await gw.api('/metrics')).text(), name).get(labels) ?? 0;
  }

  async function connack(gw: TestGateway, device: SeededDevice): Promise<number> {
    const { client, rc } = await RawMqtt.connect(gw.mqttPort, { clientId: device.id, username: device.id, password: device.token });
    client.destroy();
    return rc;
  }

  async function flap(gw: TestGateway, device: SeededDevice, times: number): Promise<void> {
    for (let i = 0; i < times; i++) await (await connectDevice(gw.mqttPort, device)).endAsync();
  }

  it('refuses on node B, with CONNACK 3, a device banned for flapping on node A, while the ban lasts', async () => {
    const flapper = devices[0]!;
    await flap(a, flapper, FLAP_CONNECTS + 1); // the last one crosses the limit: banned from the next CONNECT
    expect(await connack(a, flapper)).toBe(3);
    await a.gateway.flush(); // the ban is written beside the CONNECT, not in its path
    expect(await a.gateway.registry.deviceBans.activeUntil(flapper.id)).toBe(clock.now() + BAN_MS);

    expect(await connack(b, flapper)).toBe(3);
    expect(await connack(b, flapper)).toBe(3); // now from B's own memory of the ban
    expect(await metric(b, 'gateway_mqtt_connections_refused_total', 'reason="banned-device"')).toBe(2);
    // B adopted the ban, it did not decide one: one ban counted, on A, and one audit entry.
    expect(await metric(a, 'gateway_bans_total', 'reason="flapping"')).toBe(1);
    expect(await metric(b, 'gateway_bans_total', 'reason="flapping"')).toBe(0);
    const audit = await b.json('/v1/audit?action=security.ban');
    expect(audit.items.filter((e: { subject: string }) => e.subject === flapper.id)).toHaveLength(1);
    // Another device is not touched on either node.
    expect(await connack(b, devices[1]!)).toBe(0);

    clock.advance(BAN_MS - 1);
    expect(await connack(b, flapper)).toBe(3);
    clock.advance(1);
    expect(await connack(b, flapper)).toBe(0);
    expect(await connack(a, flapper)).toBe(0);
    expect(await a.gateway.registry.deviceBans.activeUntil(flapper.id)).toBeUndefined();
  });

  it(`counts per node: a device alternating between two nodes is banned after at most 2 × ${FLAP_CONNECTS} + 1 CONNECTs`, async () => {
    clock.advance(120_000); // earlier CONNECTs out of the window
    const hopper = devices[2]!;
    for (let i = 0; i < 2 * FLAP_CONNECTS; i++) await flap(i % 2 === 0 ? a : b, hopper, 1);
    // FLAP_CONNECTS on each node: neither has seen more than its limit.
    expect(await connack(a, hopper)).toBe(0); // FLAP_CONNECTS + 1 on A: banned from now on
    await a.gateway.flush();
    expect(await connack(b, hopper)).toBe(3);
    expect(await connack(a, hopper)).toBe(3);
  });

  it('keeps the later end when two nodes ban the same device', async () => {
    const { deviceBans } = a.gateway.registry;
    const id = devices[3]!.id;
    const now = clock.now();
    await deviceBans.ban({ deviceId: id, untilMs: now + 20_000, reason: 'flapping', nodeId: 'node-a' });
    await deviceBans.ban({ deviceId: id, untilMs: now + 10_000, reason: 'flapping', nodeId: 'node-b' });
    expect(await deviceBans.activeUntil(id)).toBe(now + 20_000);
    await deviceBans.ban({ deviceId: id, untilMs: now + 40_000, reason: 'flapping', nodeId: 'node-b' });
    expect(await deviceBans.activeUntil(id)).toBe(now + 40_000);
    clock.advance(40_000);
    expect(await deviceBans.activeUntil(id)).toBeUndefined();
  });

  it('keys the heartbeat rate by device: a reconnect does not refill the bucket; a move to another node refills it once', async () => {
    clock.advance(120_000);
    const device = devices[1]!;
    let seq = 1;
    const send = async (gw: TestGateway, count: number) => {
      const client = await connectDevice(gw.mqttPort, device);
      for (let i = 0; i < count; i++) await heartbeat(client, device.id, { seq: seq++ });
      await client.endAsync();
    };
    const limited = (gw: TestGateway) => metric(gw, 'gateway_heartbeats_rejected_total', 'reason="rate-limited"');
    await send(a, BURST + 3);
    expect(await limited(a)).toBe(3);
    await send(a, 4); // the same device on a new connection: the same empty bucket
    expect(await limited(a)).toBe(7);
    // On B the bucket starts full: the bounded over-admission of one burst per move.
    await send(b, BURST + 2);
    expect(await limited(b)).toBe(2);
    await a.gateway.flush();
    await b.gateway.flush();
    const [row] = await a.gateway.store.dailyActivity([device.id], '2020-10-09', '2020-10-09');
    expect(row?.heartbeats).toBe(2 * BURST);
  });
});
