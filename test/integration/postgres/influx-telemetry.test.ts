/**
 * GATEWAY_STORE=influx with the registry in PostgreSQL (issue 16): the registry, ledger, audit log
 * and evidence in one database, the heartbeats in InfluxDB; a device registered through the API
 * connects, its QoS 1 heartbeats are acknowledged and its verification counts it.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { systemClock } from '../../../src/clock.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { connectDevice, heartbeat } from '../../support/mqtt-devices.js';
import { seedContract, type SeededContract } from '../../support/seed.js';

const influxUrl = inject('influxUrl');

describe.runIf(influxUrl)('InfluxDB telemetry with the registry in PostgreSQL', () => {
  let gw: TestGateway;
  let contract: SeededContract;

  beforeAll(async () => {
    // startTestGateway puts the registry in a fresh PostgreSQL database (useDatabase); the store is InfluxDB's.
    gw = await startTestGateway({
      // The system clock, as the InfluxDB outage test: the store's buffer flushes on real timers.
      clock: systemClock,
      database: 'postgres',
      env: { GATEWAY_STORE: 'influx', GATEWAY_INFLUX_URL: `${influxUrl}/gw_pg_registry_${process.pid}`, GATEWAY_COMMIT_INTERVAL_MS: '0' },
    });
    contract = await seedContract(gw, { devices: 2, catalogId: 5, contractAmountFen: 4_285_715 });
  });
  afterAll(() => gw.close());

  it('acknowledges heartbeats, stores them in InfluxDB, and verifies from both databases', async () => {
    expect(gw.gateway.sql.dialect).toBe('postgres');
    expect(gw.gateway.store.kind).toBe('influx');
    const [a, b] = contract.devices;
    const clients = await Promise.all([connectDevice(gw.mqttPort, a!), connectDevice(gw.mqttPort, b!)]);
    try {
      for (let seq = 1; seq <= 10; seq++) {
        await heartbeat(clients[0]!, a!.id, { seq });
        if (seq <= 3) await heartbeat(clients[1]!, b!.id, { seq });
      }
    } finally {
      await Promise.all(clients.map((c) => c.endAsync()));
    }
    await gw.gateway.flush();
    const report = await gw.json<{ devices: Array<{ id: string; onlineMinutes: number; heartbeats: number }> }>(`/v1/contracts/${contract.contractId}/verification`);
    const minutes = new Map(report.devices.map((d) => [d.id, d.onlineMinutes]));
    const heartbeats = new Map(report.devices.map((d) => [d.id, d.heartbeats]));
    expect(heartbeats.get(a!.id)).toBe(10);
    expect(heartbeats.get(b!.id)).toBe(3);
    expect(minutes.get(a!.id)).toBeGreaterThanOrEqual(1);
    expect(minutes.get(b!.id)).toBeGreaterThanOrEqual(1);
    const health = await gw.json<{ status: string; registry: { status: string }; store: { status: string } }>('/healthz', { key: null });
    expect(health).toMatchObject({ status: 'ok', registry: { status: 'ok' }, store: { status: 'ok' } });
  });
});
