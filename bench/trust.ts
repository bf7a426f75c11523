/**
 * trust: what signatures and the transparency log cost (issue 18).
 *  - sign and verify (jose) the signed form of a real 1,000-device × 30-day report;
 *  - an audit log of 1,000,000 entries: inclusion and consistency proofs (and how many stored
 *    nodes each reads), a new signed tree head, an append in a batch and committed alone, and
 *    the full integrity check.
 * In-process, on a SQLite file in a temporary directory, with the gateway's pragmas, through
 * SqlDb (src/db/sql-db.ts) as the gateway runs it.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../src/clock.js';
import { sql } from 'kysely';
import { openSqlDb } from '../src/db/sql-db.js';
import { openDatabase } from '../src/db/sqlite.js';
import { silentLogger } from '../src/log.js';
import { createAuditLog } from '../src/registry/audit.js';
import { createRegistry } from '../src/registry/index.js';
import { registryMigrations } from '../src/registry/schema.js';
import { createVerificationService, registryVerificationSources } from '../src/services/verification.js';
import { createEvidenceStore, createSqliteTelemetryStore } from '../src/telemetry/index.js';
import { createIntegrityChecker, createSigner, createTransparencyLog, inclusionPath, verifyJws, JWS_TYPES } from '../src/trust/index.js';
import { DEFAULT_ACTIVITY_POLICY } from '../src/verifier/index.js';
import { median } from './harness.js';
import { seedContract, seedSupplier } from './servers/seed-registry.js';
import { AT, writeActivity } from './verify.js';

export interface TrustBench {
  report: { devices: number; payloadBytes: number; jwsBytes: number; signMs: number; verifyMs: number };
  log: {
    entries: number;
    buildSeconds: number;
    batchAppendUs: number;
    /** The same 10,000 rows inserted into audit_log alone (no leaf, no nodes), at the same size. */
    plainInsertUs: number;
    aloneAppendMs: number;
    inclusionMs: number;
    inclusionMaxReads: number;
    consistencyMs: number;
    treeHeadMs: number;
    checkSeconds: number;
    treeBytesPerEntry: number | null;
  };
}

async function timeAsyncMs(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function reportBench(runs: number, log: (s: string) => void): Promise<TrustBench['report']> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-trust-report-'));
  try {
    const db = openDatabase(join(dir, 'gateway.db'));
    const sqlDb = openSqlDb({ kind: 'sqlite', file: join(dir, 'gateway.db') });
    const clock = new VirtualClock(AT);
    const signer = createSigner({ file: join(dir, 'signing-key.jwk'), log: silentLogger });
    const registry = await createRegistry({ sql: sqlDb, clock, log: silentLogger, signer });
    const transparency = createTransparencyLog({ db: sqlDb, clock, signer });
    const store = createSqliteTelemetryStore({ db });
    const contract = await seedContract(registry, await seedSupplier(registry), 1000);
    await writeActivity(store, contract.devices.map((d) => d.id), 1);
    const service = createVerificationService({ store, defaultPolicy: DEFAULT_ACTIVITY_POLICY, sources: registryVerificationSources(registry, await createEvidenceStore(sqlDb, clock)) });
    const report = (await service.verify(contract.contractId, AT))!;
    const jwks = await transparency.jwks();
    let jws = '';
    const sign: number[] = [];
    const verify: number[] = [];
    for (let i = 0; i < runs; i++) {
      sign.push(await timeAsyncMs(async () => (jws = await transparency.signReport(report))));
      verify.push(await timeAsyncMs(() => verifyJws(jws, jwks, JWS_TYPES.report)));
    }
    const out = { devices: report.devices.length, payloadBytes: Buffer.byteLength(JSON.stringify(report)), jwsBytes: jws.length, signMs: median(sign), verifyMs: median(verify) };
    log(`  report: ${out.devices} devices, ${out.payloadBytes} B JSON → ${out.jwsBytes} B JWS; sign ${out.signMs.toFixed(2)} ms, verify ${out.verifyMs.toFixed(2)} ms`);
    await sqlDb.close();
    db.close();
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function logBench(entries: number, samples: number, log: (s: string) => void): Promise<TrustBench['log']> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-trust-log-'));
  try {
    const file = join(dir, 'gateway.db');
    const db = openSqlDb({ kind: 'sqlite', file });
    const clock = new VirtualClock('2020-06-01T09:00:00+08:00');
    const signer = createSigner({ file: join(dir, 'signing-key.jwk'), log: silentLogger });
    await db.migrate('registry', registryMigrations, clock);
    const audit = createAuditLog(db, clock);
    const transparency = createTransparencyLog({ db, clock, signer });
    const append = (i: number) =>
      audit.append(`key_${(i % 50).toString(36).padStart(16, '0')}`, 'device.register', `ctr_${(i % 9973).toString(36).padStart(10, '0')}`, {
        count: 1 + (i % 10),
        serials: [`SN-${i}`],
      });

    // The log is built in batches of 10,000 appends per transaction, as a bulk registration would.
    const t0 = performance.now();
    const batch = (from: number, to: number) =>
      db.transaction(async () => {
        for (let i = from; i < to; i++) await append(i);
      });
    for (let from = 0; from < entries; from += 10_000) {
      await batch(from, Math.min(entries, from + 10_000));
      clock.advance(1000);
      if (from % 200_000 === 0 && from > 0) log(`  … ${from.toLocaleString('en')} entries`);
    }
    const buildSeconds = (performance.now() - t0) / 1000;
    // Appends at this size: a batch of 10,000 in one transaction, against the bare audit_log
    // INSERT the gateway did before the tree (same rows, same transaction size).
    const plainBatch = (from: number) =>
      db.transaction(async () => {
        for (let i = from; i < from + 10_000; i++) {
          const details = JSON.stringify({ count: 1, serials: [`SN-${i}`] });
          await db.run(sql`INSERT INTO audit_log (at, actor, action, subject, details) VALUES (${clock.now()}, 'key_plain', 'device.register', ${`ctr_${i}`}, ${details})`);
        }
      });
    const batchAppendUs = ((await timeAsyncMs(() => batch(entries, entries + 10_000))) * 1000) / 10_000;
    const size = await transparency.tree.size();
    const plainInsertUs = ((await timeAsyncMs(() => plainBatch(entries))) * 1000) / 10_000;
    // The plain rows have no leaves: remove them again so the log stays consistent for the check.
    await db.run(sql`DROP TRIGGER audit_log_no_delete`);
    await db.run(sql`DELETE FROM audit_log WHERE actor = 'key_plain'`);

    let seed = 12345;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    if (batchAppendUs <= 0) throw new Error('no appends measured');
    const inclusion: number[] = [];
    let inclusionMaxReads = 0;
    const placeholder = Buffer.alloc(32);
    for (let s = 0; s < samples; s++) {
      const index = random(size);
      inclusion.push(await timeAsyncMs(() => transparency.inclusion(index, size)));
      // The stored nodes a proof reads (the tree store fetches exactly these, in one query).
      let reads = 0;
      inclusionPath(() => {
        reads++;
        return placeholder;
      }, index, size);
      inclusionMaxReads = Math.max(inclusionMaxReads, reads + 2); // + the leaf row and its audit row
    }
    const consistency: number[] = [];
    for (let s = 0; s < samples; s++) {
      const from = 1 + random(size);
      consistency.push(await timeAsyncMs(() => transparency.consistency(from, size)));
    }
    // An append committed on its own (synchronous=FULL: one fsync), then a fresh signed head over 1,000,000+.
    const alone: number[] = [];
    const heads: number[] = [];
    for (let s = 0; s < 50; s++) {
      alone.push(await timeAsyncMs(() => append(size + s)));
      clock.advance(1000);
      heads.push(await timeAsyncMs(() => transparency.treeHead()));
    }
    const checker = createIntegrityChecker({ db, clock, log: silentLogger, tree: transparency.tree });
    const t1 = performance.now();
    const state = await checker.check();
    const checkSeconds = (performance.now() - t1) / 1000;
    if (state.status !== 'ok') throw new Error(`integrity check of the bench log failed: ${state.problems.join('; ')}`);
    let treeBytesPerEntry: number | null = null;
    try {
      const row = await db.one(
        sql<{ bytes: number }>`SELECT sum(pgsize) AS bytes FROM dbstat WHERE name IN ('audit_leaves', 'audit_tree_nodes', 'sqlite_autoindex_audit_leaves_1')`,
      );
      treeBytesPerEntry = row!.bytes / size;
    } catch {
      treeBytesPerEntry = null; // dbstat not compiled in
    }
    const out = {
      entries: size,
      buildSeconds,
      batchAppendUs,
      plainInsertUs,
      aloneAppendMs: median(alone),
      inclusionMs: median(inclusion),
      inclusionMaxReads,
      consistencyMs: median(consistency),
      treeHeadMs: median(heads),
      checkSeconds,
      treeBytesPerEntry,
    };
    log(`  log: ${entries.toLocaleString('en')} entries built in ${buildSeconds.toFixed(1)} s; then ${batchAppendUs.toFixed(1)} µs/append (bare INSERT ${plainInsertUs.toFixed(1)} µs), file ${(statSync(file).size / 2 ** 20).toFixed(0)} MiB`);
    log(`  inclusion ${out.inclusionMs.toFixed(3)} ms (≤ ${inclusionMaxReads} reads), consistency ${out.consistencyMs.toFixed(3)} ms, head ${out.treeHeadMs.toFixed(3)} ms, append alone ${out.aloneAppendMs.toFixed(2)} ms, check ${checkSeconds.toFixed(1)} s`);
    await db.close();
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runTrust(options: { entries: number; samples: number; runs: number; log: (s: string) => void }): Promise<TrustBench> {
  const report = await reportBench(options.runs, options.log);
  const logFigures = await logBench(options.entries, options.samples, options.log);
  return { report, log: logFigures };
}
