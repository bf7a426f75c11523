/**
 * InfluxDB killed (SIGKILL) for 10 s under a steady load: every append that resolved (the
 * heartbeats a device would have a PUBACK for) is in InfluxDB afterwards; appends that could
 * not be buffered were rejected with "influx buffer full" (no PUBACK); health() says
 * degraded while InfluxDB is down and ok once it is back. Then the same through a whole
 * gateway: QoS 1 over MQTT, /healthz degraded during the outage, every PUBACKed heartbeat stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInfluxTelemetryStore, type InfluxTelemetryStore } from '../../src/telemetry/influx/index.js';
import type { Heartbeat, StoreHealth } from '../../src/telemetry/types.js';
import { VirtualClock } from '../../src/clock.js';
import { runGatewayOutage } from './gateway-outage.js';
import { startInfluxd, type InfluxdServer } from './influxd.js';
import { sleep } from './process.js';
import { at } from './telemetry-store-contract.js';

/** Registered by test/integration/telemetry-contract.test.ts when influxd is there; starts its own server, since it kills it. */
export function describeInfluxOutage(): void {
  describe('InfluxDB outage during a load', () => {
    let server: InfluxdServer;
    beforeAll(async () => {
      server = await startInfluxd();
    });
    afterAll(async () => {
      await server?.stop();
    });

    it('loses no acknowledged heartbeat across a 10 s kill, refuses what the buffer cannot hold, and reports degraded meanwhile', async () => {
      const bufferMax = 3_000;
      const store: InfluxTelemetryStore = await createInfluxTelemetryStore({
        url: `${server.url}/outage`,
        retentionDays: 0,
        bufferMax,
        pingIntervalMs: 200,
        requestTimeoutMs: 2_000,
        closeTimeoutMs: 15_000,
        clock: new VirtualClock('2020-10-09T08:00:00+08:00'),
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
            const deviceId = devices[k % devices.length]!;
            virtualMs += 97;
            batch.push({ deviceId, contractId: 'c1', supplierId: 's1', seq: ++seq, receivedAt: virtualMs, source: '10.0.0.1', coincident: false });
          }
          const p = store.append(batch).then(
            () => {
              for (const hb of batch) acknowledged.set(hb.deviceId, acknowledged.get(hb.deviceId)! + 1);
            },
            (err: Error) => {
              (/^influx buffer full: /.test(err.message) ? refusals : otherErrors).push(err.message);
            },
          );
          inFlight.add(p);
          void p.finally(() => inFlight.delete(p));
          await new Promise((r) => setTimeout(r, 20));
        }
      })();

      await sleep(2_000);
      expect(store.health().status).toBe('ok');
      server.kill();
      const outageStart = Date.now();
      while (Date.now() - outageStart < 10_000) {
        await sleep(500);
        healthDuringOutage.push(store.health());
      }
      await server.restart();
      await sleep(7_000); // back-off tops out at 5 s
      running = false;
      await load;
      await Promise.all(inFlight);

      // Degraded from the first second of the outage on, with a reason.
      expect(healthDuringOutage.slice(2).every((h) => h.status === 'degraded')).toBe(true);
      expect(healthDuringOutage.at(-1)!.detail).toMatch(/InfluxDB/);
      // Times shown to people come from the injected clock (here 2020-10-09), never the stopwatch (a 1970 date).
      expect(healthDuringOutage.at(-1)!.detail).toMatch(/failing since 2020-10-09T00:00:00/);
      expect(store.health().status).toBe('ok');
      expect(store.bufferedHeartbeats()).toBe(0);

      // The small buffer filled during the outage: later batches were refused, never half-taken.
      expect(refusals.length).toBeGreaterThan(0);
      expect(refusals[0]).toMatch(/GATEWAY_INFLUX_BUFFER_MAX=3000/);
      expect(otherErrors).toEqual([]);

      // Every acknowledged heartbeat is in InfluxDB — in the rollups and in the raw points.
      const totalAcknowledged = [...acknowledged.values()].reduce((a, b) => a + b, 0);
      expect(totalAcknowledged).toBeGreaterThan(2 * bufferMax);
      for (const read of [store.dailyActivity.bind(store), store.rawDailyActivity.bind(store)]) {
        const rows = await read(devices, '2020-10-09', '2020-10-10');
        const stored = new Map<string, number>();
        for (const r of rows) stored.set(r.deviceId, (stored.get(r.deviceId) ?? 0) + r.heartbeats);
        expect(Object.fromEntries(stored)).toEqual(Object.fromEntries(acknowledged));
      }
      console.info(
        `influx outage: ${totalAcknowledged} heartbeats acknowledged and found, ${refusals.length} batches refused (buffer full), ` +
          `health during outage: ${healthDuringOutage.map((h) => h.status).join(',')}`,
      );
      await store.close();
    });

    it('through the gateway: /healthz says degraded while InfluxDB is down, and every PUBACKed heartbeat is stored', async () => {
      await runGatewayOutage({
        env: { GATEWAY_STORE: 'influx', GATEWAY_INFLUX_URL: `${server.url}/gateway_outage` },
        takeDown: () => server.kill(),
        bringUp: () => server.restart(),
        async check({ acked, before, during, after }) {
          expect(before).toBe('ok');
          expect(during.slice(4).every((s) => s === 'degraded')).toBe(true);
          expect(after).toBe('ok');
          // Every PUBACKed seq is a raw point in InfluxDB (some not yet PUBACKed may be there too).
          for (const [deviceId, seqs] of acked) {
            expect(seqs.size).toBeGreaterThan(0);
            const stored = await storedSeqs(server.url, 'gateway_outage', deviceId);
            expect([...seqs].filter((seq) => !stored.has(seq)), deviceId).toEqual([]);
          }
        },
      });
    });
  });
}

/** Raw heartbeat seqs of a device, paged: InfluxDB 1.x answers at most 10,000 rows per query (max-row-limit). */
async function storedSeqs(url: string, database: string, deviceId: string): Promise<Set<number>> {
  const seqs = new Set<number>();
  for (let offset = 0; ; offset += 10_000) {
    // "gateway" is the store's retention policy, where it writes.
    const q = `SELECT seq FROM "gateway"."heartbeat" WHERE device = '${deviceId}' LIMIT 10000 OFFSET ${offset}`;
    const answer = (await (await fetch(`${url}/query?db=${database}&q=${encodeURIComponent(q)}`)).json()) as {
      results: Array<{ series?: Array<{ values: Array<[string, number]> }> }>;
    };
    const values = answer.results[0]!.series?.[0]?.values ?? [];
    for (const [, seq] of values) seqs.add(seq);
    if (values.length < 10_000) return seqs;
  }
}
