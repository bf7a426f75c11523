import inject from 'light-my-request';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { buildGateway, type Gateway } from '../../src/gateway.js';
import { TEST_ADMIN_KEY } from '../support/gateway.js';
import { buildCreditCode } from '../support/seed.js';

/**
 * Build is separate from listen (fastify's build()/listen()): the whole gateway is wired from a
 * config without opening a socket, so tests that need no port assemble it in-process. The ports
 * configured here are held by another server: any bind during the build would fail.
 */
let blocker: Server;
let busyPort: number;
let dataDir: string;
let gateway: Gateway;
const clock = new VirtualClock('2020-10-09T08:00:00+08:00');

beforeAll(async () => {
  blocker = createServer();
  busyPort = await new Promise<number>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as { port: number }).port)));
  dataDir = mkdtempSync(join(tmpdir(), 'gw-build-'));
  const config = loadConfig({
    GATEWAY_HTTP_PORT: String(busyPort),
    GATEWAY_MQTT_PORT: String(busyPort),
    GATEWAY_DATA_DIR: dataDir,
    GATEWAY_ADMIN_KEY: TEST_ADMIN_KEY,
  });
  gateway = await buildGateway({ config, clock });
});
afterAll(async () => {
  await gateway?.close();
  await new Promise<void>((resolve) => blocker.close(() => resolve()));
  rmSync(dataDir, { recursive: true, force: true });
});

async function call(method: 'GET' | 'POST', url: string, body?: unknown) {
  const res = await inject(gateway.app, {
    method,
    url,
    headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { payload: JSON.stringify(body) } : {}),
  });
  return { status: res.statusCode, body: res.json() as Record<string, any> };
}

describe('a gateway built without listening', () => {
  it('registers a contract and verifies it through the HTTP app in-process', async () => {
    const supplier = await call('POST', '/v1/suppliers', { name: '在进程内', kind: 'platform' });
    expect(supplier.status).toBe(201);
    const enterprise = await call('POST', '/v1/enterprises', { name: '佛山进程内机械', creditCode: buildCreditCode(), city: '佛山', clusterPilot: false });
    const contract = await call('POST', '/v1/contracts', {
      enterpriseId: enterprise.body.id,
      supplierId: supplier.body.id,
      catalogId: 5,
      contractAmountFen: 10_000_000,
      appliedAt: '2020-06-01T10:00:00+08:00',
      program: 2020,
    });
    expect(contract).toMatchObject({ status: 201, body: { voucherFen: 7_000_000, requiredDevices: 47 } });
    const devices = await call('POST', `/v1/contracts/${contract.body.id}/devices`, { devices: [{ serial: 'SN-IN-PROCESS' }] });
    expect(devices.status).toBe(201);
    const report = await call('GET', `/v1/contracts/${contract.body.id}/verification`);
    expect(report).toMatchObject({ status: 200, body: { requiredDevices: 47, activeDevices: 0, passed: false } });
  });

  it('opens its listeners only on listen(), which fails here because the ports are taken', async () => {
    expect(gateway.broker.aedes.connectedClients).toBe(0);
    await expect(gateway.listen()).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});
