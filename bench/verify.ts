/**
 * verify: the full verification of one contract (registry facts + dailyActivity + evidence +
 * the pure verifier) for contracts of 100 / 1,000 / 5,000 devices × 30 days, and every
 * contract of a 20,000-device fleet one after another; from SQLite, and the 1,000-device
 * contract from InfluxDB and from PostgreSQL. Growth across sizes must be about linear (ms per device flat).
 * In-process: no MQTT, heartbeats appended straight through the store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../src/clock.js';
import { openSqlDb } from '../src/db/sql-db.js';
import { openDatabase } from '../src/db/sqlite.js';
import { silentLogger } from '../src/log.js';
import { createRegistry } from '../src/registry/index.js';
import { createVerificationService, registryVerificationSources } from '../src/services/verification.js';
import { createEvidenceStore, createSqliteTelemetryStore } from '../src/telemetry/index.js';
import type { Heartbeat, TelemetryStore } from '../src/telemetry/types.js';
import { addDays, shanghaiDayStart } from '../src/time/shanghai.js';
import { DEFAULT_ACTIVITY_POLICY } from '../src/verifier/index.js';
import { median } from './harness.js';
import { seedContract, seedSupplier } from './servers/seed-registry.js';

const FIRST_DAY = '2020-10-01';
const DAYS = 30;
/** Verification time: the last minute of the 30th day. */
export const AT = shanghaiDayStart(addDays(FIRST_DAY, DAYS - 1)) + 86_400_000 - 60_000;

export interface VerifyTiming {
  devices: number;
  coldMs: number;
  medianMs: number;
  /** The dailyActivity query alone (median), the store's share. */
  activityMs: number;
  msPerDevice: number;
  activeDevices: number;
}

/** Appends `perDay` heartbeats per device per day (spread over working hours) in batches; bench/trust.ts builds its report with it too. */
export async function writeActivity(store: TelemetryStore, deviceIds: readonly string[], perDay: number): Promise<number> {
  let batch: Heartbeat[] = [];
  let written = 0;
  const pending: Promise<void>[] = [];
  for (let d = 0; d < DAYS; d++) {
    const dayStart = shanghaiDayStart(addDays(FIRST_DAY, d));
    for (let k = 0; k < perDay; k++) {
      for (let i = 0; i < deviceIds.length; i++) {
        const receivedAt = dayStart + 8 * 3600_000 + Math.floor((k * 9 * 3600_000) / perDay) + ((i * 7919) % 60_000);
        batch.push({
          deviceId: deviceIds[i]!,
          contractId: 'c',
          supplierId: 's',
          seq: d * perDay + k,
          receivedAt,
          deviceTs: receivedAt - 120,
          status: 'running',
          source: `10.0.${i % 250}.1`,
          coincident: false,
        });
        if (batch.length === 5000) {
          pending.push(store.append(batch));
          written += batch.length;
          batch = [];
          if (pending.length >= 8) await Promise.all(pending.splice(0));
        }
      }
    }
  }
  if (batch.length) pending.push(store.append(batch));
  written += batch.length;
  await Promise.all(pending);
  return written;
}

async function time<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const value = await fn();
  return [performance.now() - t0, value];
}

export interface OtherVerifyStore {
  label: string;
  open(): Promise<TelemetryStore>;
  /**
   * The registry and evidence in this database too (PostgreSQL, issue 16): the contract is seeded
   * there and the whole verification — registry, evidence, activity — reads from it.
   */
  registryUrl?: string;
  /** Which of `sizes` to write and verify on this store. */
  sizes: number[];
}

export async function runVerify(options: { sizes: number[]; fleet: number; runs: number; otherStores?: OtherVerifyStore[]; perDay: number; log: (s: string) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-verify-'));
  const db = openDatabase(join(dir, 'gateway.db'));
  const sql = openSqlDb({ kind: 'sqlite', file: join(dir, 'gateway.db') });
  const clock = new VirtualClock(AT);
  try {
    const registry = await createRegistry({ sql, clock, log: silentLogger });
    const evidence = await createEvidenceStore(sql, clock);
    const supplierId = await seedSupplier(registry);
    const contracts: { contractId: string; ids: string[] }[] = [];
    for (const size of options.sizes) {
      const c = await seedContract(registry, supplierId, size);
      contracts.push({ contractId: c.contractId, ids: c.devices.map((d) => d.id) });
    }
    let rest = options.fleet - options.sizes.reduce((s, n) => s + n, 0);
    while (rest > 0) {
      const c = await seedContract(registry, supplierId, Math.min(100, rest));
      contracts.push({ contractId: c.contractId, ids: c.devices.map((d) => d.id) });
      rest -= 100;
    }
    const allIds = contracts.flatMap((c) => c.ids);

    const sqlite = createSqliteTelemetryStore({ db });
    const [writeMs, written] = await time(() => writeActivity(sqlite, allIds, options.perDay));
    options.log(`  seeded ${contracts.length} contracts, ${allIds.length} devices, ${written.toLocaleString('en')} heartbeats in ${(writeMs / 1000).toFixed(1)} s`);

    const measure = async (store: TelemetryStore, c: { contractId: string; ids: string[] }, sources = registryVerificationSources(registry, evidence)): Promise<VerifyTiming> => {
      const service = createVerificationService({ store, defaultPolicy: DEFAULT_ACTIVITY_POLICY, sources });
      const times: number[] = [];
      const activity: number[] = [];
      let active = 0;
      for (let run = 0; run <= options.runs; run++) {
        const [ms, report] = await time(() => service.verify(c.contractId, AT));
        times.push(ms);
        active = report!.activeDevices;
        // As the verification asks: minute maps of the last day only (src/services/verification.ts).
        const lastDay = addDays(FIRST_DAY, DAYS - 1);
        const [aMs] = await time(() => store.dailyActivity(c.ids, FIRST_DAY, lastDay, { minuteMapsFrom: lastDay }));
        activity.push(aMs);
      }
      const warm = median(times.slice(1));
      return { devices: c.ids.length, coldMs: times[0]!, medianMs: warm, activityMs: median(activity.slice(1)), msPerDevice: warm / c.ids.length, activeDevices: active };
    };

    const sqliteTimings: VerifyTiming[] = [];
    for (let i = 0; i < options.sizes.length; i++) {
      const t = await measure(sqlite, contracts[i]!);
      sqliteTimings.push(t);
      options.log(`  sqlite ${String(t.devices).padStart(5)} devices × ${DAYS} d: median ${t.medianMs.toFixed(1)} ms (dailyActivity ${t.activityMs.toFixed(1)} ms), cold ${t.coldMs.toFixed(1)} ms, ${(t.msPerDevice * 1000).toFixed(1)} µs/device`);
    }
    const service = createVerificationService({ store: sqlite, defaultPolicy: DEFAULT_ACTIVITY_POLICY, sources: registryVerificationSources(registry, evidence) });
    const [fleetMs] = await time(async () => {
      for (const c of contracts) await service.verify(c.contractId, AT);
    });
    options.log(`  sqlite all ${contracts.length} contracts of ${allIds.length} devices: ${fleetMs.toFixed(0)} ms`);

    // The same contracts' activity written to each other store, then verified from it.
    const others: Record<string, VerifyTiming[]> = {};
    for (const other of options.otherStores ?? []) {
      const store = await other.open();
      const otherSql = other.registryUrl === undefined ? undefined : openSqlDb({ kind: 'postgres', url: other.registryUrl });
      try {
        others[other.label] = [];
        const otherRegistry = otherSql && (await createRegistry({ sql: otherSql, clock, log: silentLogger }));
        const sources = otherSql && otherRegistry ? registryVerificationSources(otherRegistry, await createEvidenceStore(otherSql, clock)) : undefined;
        const otherSupplier = otherRegistry && (await seedSupplier(otherRegistry));
        for (const size of other.sizes) {
          let c = contracts[options.sizes.indexOf(size)]!;
          if (otherRegistry && otherSupplier) {
            const seeded = await seedContract(otherRegistry, otherSupplier, size);
            c = { contractId: seeded.contractId, ids: seeded.devices.map((d) => d.id) };
          }
          const [ms, n] = await time(() => writeActivity(store, c.ids, options.perDay));
          options.log(`  ${other.label}: wrote ${n.toLocaleString('en')} heartbeats in ${(ms / 1000).toFixed(1)} s`);
          const t = await measure(store, c, sources);
          others[other.label]!.push(t);
          options.log(`  ${other.label} ${String(t.devices).padStart(5)} devices × ${DAYS} d: median ${t.medianMs.toFixed(1)} ms (dailyActivity ${t.activityMs.toFixed(1)} ms), cold ${t.coldMs.toFixed(1)} ms`);
        }
      } finally {
        await store.close();
        await otherSql?.close();
      }
    }
    await sqlite.close();
    return { sqlite: sqliteTimings, fleet: { contracts: contracts.length, devices: allIds.length, ms: fleetMs }, others, perDay: options.perDay };
  } finally {
    await sql.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
