/**
 * test/integration/durability.test.ts with the registry, evidence and telemetry in PostgreSQL:
 * a SIGKILL of the gateway process under QoS 1 load loses no acknowledged heartbeat. The
 * PostgreSQL store keeps per-device-day counters (no raw rows), so "nothing lost" is: every
 * device's stored heartbeat count is at least the number of its acknowledged heartbeats
 * (a heartbeat stored but whose PUBACK the kill swallowed may add, never subtract).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { spawnGateway } from '../../support/child-gateway.js';
import { createDatabase } from '../../support/postgres.js';
import { ackedAcrossKill, stopAfterReady } from '../../support/qos1-load.js';

const dataDir = mkdtempSync(join(tmpdir(), 'gw-durable-pg-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('durability on PostgreSQL', () => {
  it('keeps every acknowledged QoS 1 heartbeat across a SIGKILL of the gateway process', async () => {
    const server = inject('postgresUrl');
    if (!server) throw new Error('no PostgreSQL (test/integration/global-setup.ts)');
    const url = await createDatabase(server, 'durable');
    const env = { GATEWAY_DATABASE_URL: url, GATEWAY_STORE: 'postgres', GATEWAY_DEVICE_MAX_RATE_PER_MIN: '0' };
    const { devices, contractId, acked } = await ackedAcrossKill(await spawnGateway(dataDir, env), { devices: 4, loadMs: 2500 });
    const total = [...acked.values()].reduce((n, s) => n + s.size, 0);
    expect(total).toBeGreaterThan(100);

    // Restart on the same database: it must open clean (migrations recorded, nothing half-done) and serve.
    const second = await spawnGateway(dataDir, env);
    const report = await second.json<{ contractId: string; devices: unknown[] }>(`/v1/contracts/${contractId}/verification`);
    expect(report.contractId).toBe(contractId);
    expect(report.devices).toHaveLength(4);
    expect(await stopAfterReady(second), 'SIGTERM shuts down cleanly').toBe(0);

    const client = new pg.Client(url);
    await client.connect();
    try {
      for (const device of devices) {
        const { rows } = await client.query<{ n: string | null }>('SELECT sum(heartbeats) AS n FROM telemetry_device_day WHERE device_id = $1', [device.id]);
        expect(Number(rows[0]!.n ?? 0), `acknowledged but lost for ${device.id}`).toBeGreaterThanOrEqual(acked.get(device.id)!.size);
      }
    } finally {
      await client.end();
    }
  });
});
