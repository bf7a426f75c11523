/**
 * PostgreSQL killed (SIGKILL of the postmaster) under a steady load, then started again on the
 * same cluster: every append that resolved is stored, exactly (an append is one statement, so
 * a refused one stored nothing); appends during the outage are refused with
 * GW_ERR_TELEMETRY_UNAVAILABLE; health() is degraded with the reason meanwhile and ok once the
 * back-off probe reconnects. Then the same through a whole gateway under QoS 1: /healthz
 * degraded, PUBACKs withheld (the gateway closes the connection, the devices reconnect and
 * resend), every PUBACKed heartbeat counted in PostgreSQL.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/clock.js';
import { AppError } from '../../src/errors.js';
import { createPostgresTelemetryStore } from '../../src/telemetry/postgres/index.js';
import type { Heartbeat, StoreHealth } from '../../src/telemetry/types.js';
import { runGatewayOutage } from './gateway-outage.js';
import { createDatabase, startPostgres, type PostgresServer } from './postgres.js';
import { sleep } from './process.js';
import { at } from './telemetry-store-contract.js';

/** Registered by test/integration/telemetry-contract.test.ts when PostgreSQL is there; starts its own server, since it kills it. */
export function describePostgresOutage(): void {
  describe('PostgreSQL outage during a load', () => {
    let server: PostgresServer;
    beforeAll(async () => {
      server = await startPostgres();
    }, 120_000);
    afterAll(async () => {
      await server?.stop();
    });

    it('stores exactly the appends that resolved across a kill -9 and restart, refuses the rest, and reports degraded meanwhile', async () => {
      const url = await createDatabase(server.url, 'outage');
      const store = await createPostgresTelemetryStore({
        url,
        clock: new VirtualClock('2020-10-09T08:00:00+08:00'),
        backoff: { initialMs: 100, maxMs: 1_000 },
        timeoutMs: 2_000,
      });
      const devices = Array.from({ length: 10 }, (_, i) => `dev${i}`);
      const acknowledged = new Map<string, number>(devices.map((d) => [d, 0]));
      const refusals: string[] = [];
      const otherErrors: string[] = [];
      const inFlight = new Set<Promise<void>>();
      const healthDuringOutage: StoreHealth[] = [];
      let seq = 0;
      let virtualMs = at('2020-10-09', '08:00:00');
      let running = true;

      const load = (async () => {
        while (running) {
          const batch: Heartbeat[] = [];
          for (let k = 0; k < 50; k++) {
            virtualMs += 97;
            batch.push({ deviceId: devices[k % devices.length]!, contractId: 'c1', supplierId: 's1', seq: ++seq, receivedAt: virtualMs, source: '10.0.0.1', coincident: false });
          }
          const p = store.append(batch).then(
            () => {
              for (const hb of batch) acknowledged.set(hb.deviceId, acknowledged.get(hb.deviceId)! + 1);
            },
            (err: Error) => {
              (err instanceof AppError && err.code === 'GW_ERR_TELEMETRY_UNAVAILABLE' ? refusals : otherErrors).push(err.message);
            },
          );
          inFlight.add(p);
          void p.finally(() => inFlight.delete(p));
          await sleep(20);
        }
      })();

      await sleep(2_000);
      expect(store.health().status).toBe('ok');
      server.kill();
      for (let i = 0; i < 10; i++) {
        await sleep(500);
        healthDuringOutage.push(store.health());
      }
      await server.restart();
      for (let i = 0; i < 40 && store.health().status !== 'ok'; i++) await sleep(250);
      await sleep(1_000);
      running = false;
      await load;
      await Promise.all(inFlight);

      expect(healthDuringOutage.slice(2).every((h) => h.status === 'degraded')).toBe(true);
      // The reason, with a time from the injected clock (2020-10-09), never the stopwatch.
      expect(healthDuringOutage.at(-1)!.detail).toMatch(/^PostgreSQL unreachable since 2020-10-09T00:00:00/);
      expect(store.health().status).toBe('ok');
      expect(refusals.length).toBeGreaterThan(0);
      expect(otherErrors).toEqual([]);

      const client = new pg.Client(url);
      await client.connect();
      try {
        const { rows } = await client.query<{ device_id: string; n: string }>('SELECT device_id, sum(heartbeats) AS n FROM telemetry_device_day GROUP BY device_id');
        const stored = Object.fromEntries(rows.map((r) => [r.device_id, Number(r.n)]));
        expect(stored).toEqual(Object.fromEntries(acknowledged));
      } finally {
        await client.end();
      }
      console.info(`postgres outage: ${[...acknowledged.values()].reduce((a, b) => a + b, 0)} heartbeats acknowledged and stored, ${refusals.length} batches refused`);
      await store.close();
    });

    it('through the gateway: /healthz degraded while PostgreSQL is down, PUBACKs withheld, every PUBACKed heartbeat stored', async () => {
      const url = await createDatabase(server.url, 'gateway_outage');
      await runGatewayOutage({
        env: { GATEWAY_STORE: 'postgres', GATEWAY_DATABASE_URL: url },
        takeDown: () => server.kill(),
        bringUp: () => server.restart(),
        reconnectMs: 200,
        async check({ gw, acked, before, during, lastDetail, verificationDuring, after }) {
          expect(before).toBe('ok');
          expect(during.slice(2).every((s) => s === 'degraded')).toBe(true);
          expect(JSON.stringify(lastDetail)).toMatch(/PostgreSQL unreachable since/);
          // The registry noticed too (the verification's contract look-up) and says so.
          expect(JSON.stringify(lastDetail)).toMatch(/registry database unreachable/);
          // A verification needs the contract (the registry is in the same PostgreSQL) and the
          // activity: 503 problem+json with Retry-After, not a 500.
          expect(verificationDuring.status).toBe(503);
          expect(verificationDuring.retryAfter).toBe('5');
          expect(verificationDuring.body).toMatchObject({ code: 'GW_ERR_DATABASE_UNAVAILABLE', status: 503 });
          expect(after).toBe('ok');
          // Without raw heartbeats the check is by count: a device's stored heartbeats include
          // every PUBACKed one (a resend of a heartbeat whose PUBACK was lost may add more).
          const activity = await gw.gateway.store.dailyActivity([...acked.keys()], '2020-01-01', '2099-12-31');
          for (const [deviceId, seqs] of acked) {
            expect(seqs.size).toBeGreaterThan(0);
            const stored = activity.filter((r) => r.deviceId === deviceId).reduce((n, r) => n + r.heartbeats, 0);
            expect(stored, deviceId).toBeGreaterThanOrEqual(seqs.size);
          }
        },
      });
    });
  });
}
