import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { VirtualClock } from '../../../src/clock.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { seedContract, type SeededDevice } from '../../support/seed.js';

const run = promisify(execFile);

let gw: TestGateway;
let clock: VirtualClock;
let devices: SeededDevice[];
let otherDevices: SeededDevice[];

beforeAll(async () => {
  clock = new VirtualClock('2020-10-09T08:00:00+08:00');
  gw = await startTestGateway({ clock });
  ({ devices } = await seedContract(gw, { devices: 3 }));
  ({ devices: otherDevices } = await seedContract(gw, { devices: 1, supplierName: 'Other supplier' }));
});
afterAll(async () => gw?.close());

function connect(device: SeededDevice, overrides: mqtt.IClientOptions = {}): Promise<mqtt.MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(gw.mqttUrl, {
      clientId: device.id,
      username: device.id,
      password: device.token,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ...overrides,
    });
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
  });
}

async function today(deviceId: string) {
  const rows = await gw.gateway.store.dailyActivity([deviceId], '2020-10-09', '2020-10-09');
  return rows[0];
}

describe('heartbeats over real MQTT clients', () => {
  it('stores QoS 0 and QoS 1 heartbeats of a registered device as activity', async () => {
    const client = await connect(devices[0]!);
    await client.publishAsync(`v1/devices/${devices[0]!.id}/heartbeat`, JSON.stringify({ seq: 1 }), { qos: 1 });
    clock.advance(60_000);
    await client.publishAsync(`v1/devices/${devices[0]!.id}/heartbeat`, JSON.stringify({ seq: 2, status: 'running' }), { qos: 0 });
    // QoS 0 has no acknowledgement: wait until the gateway holds it before the clock moves on.
    await vi.waitFor(async () => {
      await gw.gateway.flush();
      expect((await today(devices[0]!.id))?.heartbeats).toBe(2);
    });
    clock.advance(60_000);
    await client.publishAsync(`v1/devices/${devices[0]!.id}/heartbeat`, JSON.stringify({ seq: 3 }), { qos: 1 });
    await client.endAsync();
    await gw.gateway.flush();
    const row = await today(devices[0]!.id);
    // One heartbeat in each of three consecutive minutes: three online minutes.
    expect(row).toMatchObject({ heartbeats: 3, lastSeq: 3, onlineMinutes: 3 });
  });

  it('acknowledges a QoS 1 heartbeat only after it is durable', async () => {
    const client = await connect(devices[1]!);
    await client.publishAsync(`v1/devices/${devices[1]!.id}/heartbeat`, JSON.stringify({ seq: 10 }), { qos: 1 });
    // No flush: the PUBACK itself promises the row is there.
    const row = await today(devices[1]!.id);
    await client.endAsync();
    expect(row).toMatchObject({ heartbeats: 1, lastSeq: 10 });
  });

  it.each([
    ['an unknown device', { clientId: 'd0000000000000000', username: 'd0000000000000000' }, 'Bad username or password'],
    ['a wrong token', { password: 'ffffffffffffffffffffffffffffffff' }, 'Bad username or password'],
    ['a client id different from the username', { clientId: 'someone-else' }, 'Not authorized'],
    ['no credentials', { username: undefined, password: undefined }, 'Bad username or password'],
  ])('refuses %s at CONNECT', async (_name, overrides, message) => {
    await expect(connect(devices[2]!, overrides as mqtt.IClientOptions)).rejects.toThrow(message);
  });

  it("closes a client that publishes to another device's topic and stores nothing", async () => {
    const client = await connect(devices[2]!);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.publish(`v1/devices/${otherDevices[0]!.id}/heartbeat`, JSON.stringify({ seq: 1 }), { qos: 1 });
    await closed;
    client.end(true);
    await gw.gateway.flush();
    expect(await today(otherDevices[0]!.id)).toBeUndefined();
    expect(await today(devices[2]!.id)).toBeUndefined();
  });

  it('refuses subscriptions to heartbeat topics by closing the connection, counted in /metrics', async () => {
    const client = await connect(devices[2]!);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    let granted: unknown;
    client.subscribe('v1/devices/+/heartbeat', { qos: 0 }, (err, grants) => {
      granted = err ?? grants;
    });
    await closed;
    client.end(true);
    expect(Array.isArray(granted) && granted.some((g: { qos: number }) => g.qos !== 128)).toBe(false);
    const metrics = await (await gw.api('/metrics')).text();
    expect(metrics).toMatch(/gateway_mqtt_publish_denied_total\{reason="subscribe-denied"\} [1-9]/);
  });

  it('rejects and counts a 5 KiB payload, non-JSON, a negative seq and a NaN metric, and keeps serving', async () => {
    const device = devices[2]!;
    const client = await connect(device);
    const topic = `v1/devices/${device.id}/heartbeat`;
    await client.publishAsync(topic, JSON.stringify({ seq: 1, pad: 'x'.repeat(5 * 1024) }), { qos: 1 });
    await client.publishAsync(topic, 'not json', { qos: 1 });
    await client.publishAsync(topic, JSON.stringify({ seq: -1 }), { qos: 1 });
    await client.publishAsync(topic, '{"seq":2,"metrics":{"power":NaN}}', { qos: 1 });
    await client.publishAsync(topic, JSON.stringify({ seq: 3 }), { qos: 1 });
    await client.endAsync();
    await gw.gateway.flush();
    expect(await today(device.id)).toMatchObject({ heartbeats: 1, lastSeq: 3 });
    const metrics = await (await gw.api('/metrics')).text();
    expect(metrics).toMatch(/gateway_heartbeats_rejected_total\{reason="payload-too-large"\} 1/);
    expect(metrics).toMatch(/gateway_heartbeats_rejected_total\{reason="invalid-json"\} 2/);
    expect(metrics).toMatch(/gateway_heartbeats_rejected_total\{reason="invalid-payload"\} 1/);
  });

  it('accepts heartbeats from mosquitto_pub, and mosquitto_sub may not listen to heartbeats', async () => {
    const device = devices[0]!;
    await run('mosquitto_pub', [
      '-h', '127.0.0.1', '-p', String(gw.mqttPort), '-i', device.id, '-u', device.id, '-P', device.token,
      '-q', '1', '-t', `v1/devices/${device.id}/heartbeat`, '-m', JSON.stringify({ seq: 100 }),
    ]);
    await gw.gateway.flush();
    expect(await today(device.id)).toMatchObject({ lastSeq: 100 });
    // If the subscription were allowed, the next heartbeat would reach it and it would exit 0 with output.
    const sub = run('mosquitto_sub', [
      '-h', '127.0.0.1', '-p', String(gw.mqttPort), '-i', devices[1]!.id, '-u', devices[1]!.id, '-P', devices[1]!.token,
      '-t', 'v1/devices/+/heartbeat', '-C', '1', '-W', '3',
    ]).then(
      (r) => ({ ok: true, stdout: r.stdout }),
      (e: { stdout: string }) => ({ ok: false, stdout: e.stdout }),
    );
    await new Promise((r) => setTimeout(r, 500));
    await run('mosquitto_pub', [
      '-h', '127.0.0.1', '-p', String(gw.mqttPort), '-i', device.id, '-u', device.id, '-P', device.token,
      '-q', '1', '-t', `v1/devices/${device.id}/heartbeat`, '-m', JSON.stringify({ seq: 101 }),
    ]);
    expect(await sub).toEqual({ ok: false, stdout: '' });
    await expect(
      run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(gw.mqttPort), '-i', device.id, '-u', device.id, '-P', 'wrong', '-t', `v1/devices/${device.id}/heartbeat`, '-m', '{"seq":1}']),
    ).rejects.toMatchObject({ stderr: expect.stringMatching(/not authori[sz]ed|bad user name or password|Connection Refused/i) });
  });
});
