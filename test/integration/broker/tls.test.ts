import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { selfSignedTlsEnv } from '../../support/tls.js';
import { seedContract, type SeededContract } from '../../support/seed.js';

const dir = mkdtempSync(join(tmpdir(), 'gw-tls-'));
let gw: TestGateway;
let contract: SeededContract;

beforeAll(async () => {
  gw = await startTestGateway({ env: selfSignedTlsEnv(dir) });
  contract = await seedContract(gw, { devices: 1 });
});
afterAll(async () => {
  await gw?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('MQTT over TLS', () => {
  it('accepts an authenticated heartbeat on the TLS listener', async () => {
    const device = contract.devices[0]!;
    const port = gw.gateway.mqttTlsPort!;
    expect(port).toBeGreaterThan(0);
    const client = await mqtt.connectAsync(`mqtts://127.0.0.1:${port}`, {
      clientId: device.id, username: device.id, password: device.token, reconnectPeriod: 0, rejectUnauthorized: false,
    });
    await client.publishAsync(`v1/devices/${device.id}/heartbeat`, JSON.stringify({ seq: 1 }), { qos: 1 });
    await client.endAsync();
    const rows = await gw.gateway.store.dailyActivity([device.id], '2020-10-09', '2020-10-09');
    expect(rows[0]).toMatchObject({ heartbeats: 1, lastSeq: 1 });
  });
});
