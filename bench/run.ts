/**
 * `npm run bench` runs every benchmark; `npm run bench -- ingest` (or several names) runs some.
 * Prints the table (gateway, the reference measured in the same run, ratio, target) and writes
 * bench/results/<name>-<timestamp>.json and bench/results/latest.json. Method: BENCHMARKS.md.
 *
 * Names: ingest, ingest-influx, ingest-postgres, connect-storm, nat-storm, memory, verify, rules, storage, trust, edge, sessions; cluster by name only.
 * BENCH_TRUST_ENTRIES overrides the audit log size of `trust` (default 1,000,000).
 * BENCH_ROUNDS overrides the rounds per comparison (default 3; 2 for connect-storm, 1 for memory).
 */
import { influxdAvailable, startInfluxd, type InfluxdServer } from '../test/support/influxd.js';
import { createDatabase, postgresAvailable, startPostgres, type PostgresServer } from '../test/support/postgres.js';
import { runClusterBench } from './cluster.js';
import { runMemory, runStorm } from './connections.js';
import { runEdge } from './edge.js';
import { runNatStorm } from './nat-storm.js';
import { runIngest, type IngestVariant } from './ingest.js';
import { formatTable, machine, writeResults, type BenchResult, type ResultRow } from './report.js';
import { runRules } from './rules.js';
import { runSessionClaims } from './sessions.js';
import { influxBytesPerHeartbeat, sqliteBytesPerDeviceDay } from './storage.js';
import { processesCpuMs } from './proc-cpu.js';
import { runTrust } from './trust.js';
import { runVerify, type OtherVerifyStore } from './verify.js';

const ALL = ['ingest', 'ingest-influx', 'ingest-postgres', 'connect-storm', 'nat-storm', 'memory', 'verify', 'rules', 'storage', 'trust', 'edge', 'cluster', 'sessions'] as const;
type Name = (typeof ALL)[number];

const requested = process.argv.slice(2).filter((a) => a !== '--');
const unknown = requested.filter((n) => !(ALL as readonly string[]).includes(n));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; choose from ${ALL.join(', ')}`);
  process.exit(2);
}
/** `cluster` starts PostgreSQL, HAProxy and up to three gateway processes per round (~4.5 min): run by name only, so `npm run bench` stays within its 10 minutes. */
const BY_NAME_ONLY: readonly Name[] = ['cluster'];
const selected = new Set<Name>(requested.length ? (requested as Name[]) : ALL.filter((n) => !BY_NAME_ONLY.includes(n)));
const roundsOverride = process.env.BENCH_ROUNDS ? Number(process.env.BENCH_ROUNDS) : undefined;
const log = (line: string) => console.log(line);
const startedAt = new Date();
const results: BenchResult[] = [];
const ratio = (g: number, r: number) => (Number.isFinite(g) && Number.isFinite(r) && r !== 0 ? g / r : null);

console.log(`bench: ${[...selected].join(', ')} on ${JSON.stringify(machine())}`);

let influx: InfluxdServer | undefined;
let influxMissing: string | undefined;
const needsInflux = selected.has('ingest-influx') || selected.has('verify') || selected.has('storage');
if (needsInflux) {
  if (influxdAvailable()) influx = await startInfluxd();
  else influxMissing = 'influxd not installed (apt-get install influxdb): InfluxDB rows not run';
}

let postgres: PostgresServer | undefined;
let postgresMissing: string | undefined;
if (selected.has('ingest-postgres') || selected.has('verify') || selected.has('connect-storm') || selected.has('cluster') || selected.has('sessions')) {
  if (postgresAvailable()) postgres = await startPostgres();
  else postgresMissing = 'PostgreSQL 15 not installed (apt-get install postgresql): PostgreSQL rows not run';
}

async function bench(name: string, fn: () => Promise<{ rows: ResultRow[]; details: unknown }>): Promise<void> {
  console.log(`\n▶ ${name}`);
  const t0 = performance.now();
  try {
    const { rows, details } = await fn();
    results.push({ name, rows, details, seconds: (performance.now() - t0) / 1000 });
  } catch (err) {
    console.error(`  ${name} failed:`, err);
    results.push({
      name,
      rows: [{ benchmark: name, metric: 'failed', unit: '', gateway: null, target: '', met: false, note: String(err) }],
      details: { error: String(err) },
      seconds: (performance.now() - t0) / 1000,
    });
  }
  console.log(`  (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
}

try {
  const ingestNames = (['ingest', 'ingest-influx', 'ingest-postgres'] as const).filter((n) => selected.has(n));
  if (ingestNames.length > 0) {
    // One interleaved series when both run: the bare-aedes rounds serve as the reference of both rows.
    const variants: IngestVariant[] = [{ label: 'bare-aedes', kind: 'bare-aedes' }];
    if (selected.has('ingest')) variants.push({ label: 'gateway', kind: 'gateway' });
    if (selected.has('ingest-influx') && influx) {
      const url = influx.url;
      variants.push({ label: 'gateway-influx', kind: 'gateway', env: (round) => ({ GATEWAY_STORE: 'influx', GATEWAY_INFLUX_URL: `${url}/bench_ingest_${round}` }) });
    }
    if (selected.has('ingest-postgres') && postgres) {
      const server = postgres;
      variants.push({
        label: 'gateway-postgres',
        kind: 'gateway',
        env: async (round) => ({ GATEWAY_STORE: 'postgres', GATEWAY_DATABASE_URL: await createDatabase(server.url, `bench_ingest_${round}`) }),
        // PostgreSQL runs on the same two cores: its postmaster and backends, charged per heartbeat too.
        databaseCpuMs: () => processesCpuMs(server.pids()),
      });
    }
    const name = ingestNames.join(' + ');
    await bench(name, async () => {
      const run = await runIngest({ devices: 5000, durationMs: 20_000, rounds: roundsOverride ?? 3, publishers: 2, window: 2, sources: 100, variants, log });
      const ref = run.figures['bare-aedes']!;
      const rows: ResultRow[] = [];
      const addRows = (benchmark: string, label: string, minimum: number) => {
        const g = run.figures[label]!;
        const throughput = ratio(g.perSecond, ref.perSecond);
        // Capacity: reference CPU per message ÷ gateway CPU per message — what the server could do
        // with a whole core, independent of whether the load generator saturated it.
        const capacity = ratio(ref.cpuUsPerMessage, g.cpuUsPerMessage);
        rows.push(
          { benchmark, metric: 'heartbeats/s (acked in 20 s)', unit: '/s', gateway: g.perSecond, reference: ref.perSecond, ratio: throughput, target: `≥ ${minimum} × bare`, met: throughput !== null && throughput >= minimum && g.clean },
          { benchmark, metric: 'server CPU per message', unit: 'µs', gateway: g.cpuUsPerMessage, reference: ref.cpuUsPerMessage, ratio: capacity, target: `bare ÷ gw ≥ ${minimum}`, met: capacity !== null && capacity >= minimum },
          { benchmark, metric: 'ack latency p50', unit: 'ms', gateway: g.p50Ms, reference: ref.p50Ms, ratio: ratio(g.p50Ms, ref.p50Ms), target: '(reported)', met: null },
          { benchmark, metric: 'ack latency p99', unit: 'ms', gateway: g.p99Ms, reference: ref.p99Ms, ratio: ratio(g.p99Ms, ref.p99Ms), target: '(reported)', met: null },
        );
      };
      if (selected.has('ingest')) addRows('ingest', 'gateway', 0.6);
      if (selected.has('ingest-influx')) {
        if (run.figures['gateway-influx']) addRows('ingest-influx', 'gateway-influx', 0.5);
        else rows.push({ benchmark: 'ingest-influx', metric: 'heartbeats/s', unit: '/s', gateway: null, target: '≥ 0.5 × bare', met: null, note: influxMissing });
      }
      if (selected.has('ingest-postgres')) {
        const g = run.figures['gateway-postgres'];
        if (g) {
          addRows('ingest-postgres', 'gateway-postgres', 0.5);
          const withDatabase = g.cpuUsPerMessage + g.databaseCpuUsPerMessage;
          const capacity = ratio(ref.cpuUsPerMessage, withDatabase);
          rows.push(
            { benchmark: 'ingest-postgres', metric: 'PostgreSQL CPU per heartbeat', unit: 'µs', gateway: g.databaseCpuUsPerMessage, target: '(reported)', met: null },
            { benchmark: 'ingest-postgres', metric: 'gateway + PostgreSQL CPU per message', unit: 'µs', gateway: withDatabase, reference: ref.cpuUsPerMessage, ratio: capacity, target: '(reported)', met: null },
          );
        } else rows.push({ benchmark: 'ingest-postgres', metric: 'heartbeats/s', unit: '/s', gateway: null, target: '≥ 0.5 × bare', met: null, note: postgresMissing });
      }
      return { rows, details: run };
    });
  }

  if (selected.has('connect-storm')) {
    await bench('connect-storm', async () => {
      const run = await runStorm({ devices: 10_000, rounds: roundsOverride ?? 2, loaders: 2, sources: 100, log });
      const r = ratio(run.gateway.perSecond, run.reference.perSecond);
      const rows: ResultRow[] = [
        { benchmark: 'connect-storm', metric: '10,000 connects: connections/s', unit: '/s', gateway: run.gateway.perSecond, reference: run.reference.perSecond, ratio: r, target: '≥ 0.5 × bare, all connected', met: r !== null && r >= 0.5 && run.gateway.allConnected },
      ];
      // The same storm with the registry (device credentials) in PostgreSQL (issue 16).
      let onPostgres: Awaited<ReturnType<typeof runStorm>> | undefined;
      if (postgres) {
        const server = postgres;
        onPostgres = await runStorm({
          devices: 10_000,
          rounds: roundsOverride ?? 2,
          loaders: 2,
          sources: 100,
          log,
          gatewayEnv: async (round) => ({ GATEWAY_DATABASE_URL: await createDatabase(server.url, `bench_storm_${round}`) }),
        });
        const rp = ratio(onPostgres.gateway.perSecond, onPostgres.reference.perSecond);
        rows.push({ benchmark: 'connect-storm', metric: '10,000 connects, registry in PostgreSQL: connections/s', unit: '/s', gateway: onPostgres.gateway.perSecond, reference: onPostgres.reference.perSecond, ratio: rp, target: '≥ 0.5 × bare, all connected', met: rp !== null && rp >= 0.5 && onPostgres.gateway.allConnected });
      } else {
        rows.push({ benchmark: 'connect-storm', metric: '10,000 connects, registry in PostgreSQL: connections/s', unit: '/s', gateway: null, target: '≥ 0.5 × bare, all connected', met: null, note: postgresMissing });
      }
      return { rows, details: { sqlite: run, postgres: onPostgres } };
    });
  }

  if (selected.has('nat-storm')) {
    // Default flood control, real clock: a factory NAT's reconnect storm must converge (issue 15).
    await bench('nat-storm', () => runNatStorm({ devices: 3_000, deadlineS: 120, log }));
  }

  if (selected.has('memory')) {
    await bench('memory', async () => {
      const steps = [1000, 5000, 10_000];
      const run = await runMemory({ steps, rounds: roundsOverride ?? 1, loaders: 2, sources: 100, log });
      return {
        rows: steps.map((n): ResultRow => {
          const r = ratio(run.gateway[n]!, run.reference[n]!);
          return { benchmark: 'memory', metric: `RSS per idle device @ ${n.toLocaleString('en')}`, unit: 'KiB', gateway: run.gateway[n]! / 1024, reference: run.reference[n]! / 1024, ratio: r, target: '≤ 1.3 × bare', met: r !== null && r <= 1.3 };
        }),
        details: run,
      };
    });
  }

  if (selected.has('verify')) {
    await bench('verify', async () => {
      const otherStores: OtherVerifyStore[] = [];
      if (influx) {
        const url = `${influx.url}/bench_verify`;
        const { createInfluxTelemetryStore } = await import('../src/telemetry/influx/index.js');
        otherStores.push({ label: 'influx', sizes: [1000], open: () => createInfluxTelemetryStore({ url, retentionDays: 0, bufferMax: 2_000_000, pingIntervalMs: 0 }) });
      }
      if (postgres) {
        const url = await createDatabase(postgres.url, 'bench_verify');
        const { createPostgresTelemetryStore } = await import('../src/telemetry/postgres/index.js');
        // Registry, evidence and activity all in PostgreSQL: the verification reads nothing else.
        otherStores.push({ label: 'postgres', sizes: [1000], registryUrl: url, open: () => createPostgresTelemetryStore({ url }) });
      }
      const run = await runVerify({ sizes: [100, 1000, 5000], fleet: 20_000, runs: 5, perDay: 1, otherStores, log });
      const at = (n: number) => run.sqlite.find((t) => t.devices === n)!;
      const growth = at(5000).msPerDevice / at(1000).msPerDevice;
      const rows: ResultRow[] = run.sqlite.map((t) => ({
        benchmark: 'verify',
        metric: `one contract, ${t.devices.toLocaleString('en')} devices × 30 d (SQLite)`,
        unit: 'ms',
        gateway: t.medianMs,
        target: t.devices === 1000 ? '≤ 50 ms' : '(linear)',
        met: t.devices === 1000 ? t.medianMs <= 50 : null,
        note: `dailyActivity ${t.activityMs.toFixed(1)} ms`,
      }));
      rows.push(
        { benchmark: 'verify', metric: 'growth 1,000 → 5,000 (per-device time ratio)', unit: '×', gateway: growth, target: '~1 (linear)', met: growth <= 1.5 },
        { benchmark: 'verify', metric: `all ${run.fleet.contracts} contracts, ${run.fleet.devices.toLocaleString('en')} devices (SQLite)`, unit: 'ms', gateway: run.fleet.ms, target: '(reported)', met: null },
      );
      const otherRow = (label: string, title: string, targetMs: number, missing: string | undefined): ResultRow => {
        const t = run.others[label]?.find((x) => x.devices === 1000);
        const metric = `one contract, 1,000 devices × 30 d (${title})`;
        const target = targetMs >= 1000 ? `≤ ${targetMs / 1000} s` : `≤ ${targetMs} ms`;
        return t
          ? { benchmark: 'verify', metric, unit: 'ms', gateway: t.medianMs, target, met: t.medianMs <= targetMs, note: `dailyActivity ${t.activityMs.toFixed(1)} ms` }
          : { benchmark: 'verify', metric, unit: 'ms', gateway: null, target, met: null, note: missing };
      };
      rows.push(otherRow('influx', 'InfluxDB', 1000, influxMissing), otherRow('postgres', 'PostgreSQL: registry, evidence and activity', 100, postgresMissing));
      return { rows, details: run };
    });
  }

  if (selected.has('rules')) {
    await bench('rules', async () => {
      const run = runRules({ evaluateMs: 3000, allocateRuns: 5, applications: 100_000 });
      return {
        rows: [
          { benchmark: 'rules', metric: 'evaluate() per second', unit: '/s', gateway: run.evaluationsPerSecond, target: '≥ 50,000/s', met: run.evaluationsPerSecond >= 50_000 },
          { benchmark: 'rules', metric: 'allocate() 100,000 applications', unit: 'ms', gateway: run.allocateMedianMs, target: '≤ 1,000 ms', met: run.allocateMedianMs <= 1000 },
        ],
        details: run,
      };
    });
  }

  if (selected.has('storage')) {
    await bench('storage', async () => {
      const sqlite = await sqliteBytesPerDeviceDay();
      log(`  sqlite: ${sqlite.deviceDays} device-days, ${sqlite.fileBytes} B → ${sqlite.perDeviceDay.toFixed(1)} B/device-day (b-trees ${sqlite.btreePerDeviceDay.toFixed(1)})`);
      const rows: ResultRow[] = [
        { benchmark: 'storage', metric: 'SQLite bytes per device-day (file)', unit: 'B', gateway: sqlite.perDeviceDay, target: '≤ 300 B', met: sqlite.perDeviceDay <= 300, note: `telemetry b-trees ${sqlite.btreePerDeviceDay.toFixed(0)} B` },
      ];
      let inf: Awaited<ReturnType<typeof influxBytesPerHeartbeat>> | undefined;
      if (influx) {
        inf = await influxBytesPerHeartbeat(influx);
        log(`  influx: ${inf.heartbeats} heartbeats, ${inf.bytes} B → ${inf.perHeartbeat.toFixed(1)} B/heartbeat (written at ${Math.round(inf.writePerSecond)}/s)`);
        rows.push({ benchmark: 'storage', metric: 'InfluxDB bytes per heartbeat (data+wal)', unit: 'B', gateway: inf.perHeartbeat, target: '(reported)', met: null });
      } else rows.push({ benchmark: 'storage', metric: 'InfluxDB bytes per heartbeat', unit: 'B', gateway: null, target: '(reported)', met: null, note: influxMissing });
      return { rows, details: { sqlite, influx: inf } };
    });
  }
  if (selected.has('trust')) {
    await bench('trust', async () => {
      const entries = process.env.BENCH_TRUST_ENTRIES ? Number(process.env.BENCH_TRUST_ENTRIES) : 1_000_000;
      const run = await runTrust({ entries, samples: 1000, runs: 20, log });
      const n = run.log.entries.toLocaleString('en');
      const logN = Math.ceil(Math.log2(run.log.entries));
      return {
        rows: [
          { benchmark: 'trust', metric: `sign a ${run.report.devices.toLocaleString('en')}-device report (JWS EdDSA)`, unit: 'ms', gateway: run.report.signMs, target: '(reported)', met: null, note: `${run.report.jwsBytes} B JWS` },
          { benchmark: 'trust', metric: `verify it (jose)`, unit: 'ms', gateway: run.report.verifyMs, target: '(reported)', met: null },
          { benchmark: 'trust', metric: `inclusion proof @ ${n} entries`, unit: 'ms', gateway: run.log.inclusionMs, target: `O(log n): ≤ ${2 * logN + 2} reads`, met: run.log.inclusionMaxReads <= 2 * logN + 2, note: `max ${run.log.inclusionMaxReads} reads` },
          { benchmark: 'trust', metric: `consistency proof @ ${n} entries`, unit: 'ms', gateway: run.log.consistencyMs, target: '(reported)', met: null },
          { benchmark: 'trust', metric: `append @ ${n} entries, in a 10,000 batch (vs bare audit INSERT)`, unit: 'µs', gateway: run.log.batchAppendUs, reference: run.log.plainInsertUs, ratio: ratio(run.log.batchAppendUs, run.log.plainInsertUs), target: '(reported)', met: null, note: `log built in ${run.log.buildSeconds.toFixed(0)} s` },
          { benchmark: 'trust', metric: `append @ ${n} entries, committed alone`, unit: 'ms', gateway: run.log.aloneAppendMs, target: '(reported)', met: null, note: 'one fsync (synchronous=FULL)' },
          { benchmark: 'trust', metric: `new signed tree head @ ${n} entries`, unit: 'ms', gateway: run.log.treeHeadMs, target: '(reported)', met: null },
          { benchmark: 'trust', metric: `full integrity check @ ${n} entries`, unit: 's', gateway: run.log.checkSeconds, target: '(reported)', met: null, note: run.log.treeBytesPerEntry === null ? undefined : `tree ${run.log.treeBytesPerEntry.toFixed(0)} B/entry` },
        ],
        details: run,
      };
    });
  }
  if (selected.has('sessions')) {
    await bench('sessions', async () => {
      if (!postgres) return { rows: [{ benchmark: 'sessions', metric: 'session claims/s', unit: '/s', gateway: null, target: '(reported)', met: null, note: postgresMissing }], details: {} };
      const run = await runSessionClaims({ url: await createDatabase(postgres.url, 'bench_sessions'), devices: 10_000, batch: 500, log });
      // A claim per CONNECT must not be what limits a storm: a node takes a few thousand CONNECTs a second (connect-storm).
      const row = (metric: string, perSecond: number): ResultRow => ({ benchmark: 'sessions', metric, unit: '/s', gateway: perSecond, target: '≥ 10,000 /s', met: perSecond >= 10_000 });
      return {
        rows: [
          row('10,000 session claims in upserts of 500: first connects', run.insert),
          row('… reconnects to the same node', run.sameNode),
          { ...row('… reconnects to another node (+ NOTIFY)', run.otherNode), note: `${run.noticesDelivered.toLocaleString('en')} notices delivered` },
        ],
        details: run,
      };
    });
  }
  if (selected.has('edge')) {
    await bench('edge', async () => {
      const run = await runEdge({ devices: 500, durationMs: 10_000, rounds: roundsOverride ?? 3, log });
      const { edge, direct } = run;
      return {
        rows: [
          { benchmark: 'edge', metric: '500 devices: heartbeats/s, one edge connection vs 500 direct', unit: '/s', gateway: edge.perSecond, reference: direct.perSecond, ratio: ratio(edge.perSecond, direct.perSecond), target: '(reported)', met: null, note: 'reference = 500 direct device connections' },
          { benchmark: 'edge', metric: 'server CPU per heartbeat, edge vs direct', unit: 'µs', gateway: edge.cpuUsPerHeartbeat, reference: direct.cpuUsPerHeartbeat, ratio: ratio(edge.cpuUsPerHeartbeat, direct.cpuUsPerHeartbeat), target: '(reported)', met: null },
          { benchmark: 'edge', metric: 'RSS per device, behind the edge node vs connected', unit: 'KiB', gateway: edge.bytesPerDevice / 1024, reference: direct.bytesPerDevice / 1024, ratio: ratio(edge.bytesPerDevice, direct.bytesPerDevice), target: '(reported)', met: null },
        ],
        details: run,
      };
    });
  }
  if (selected.has('cluster')) {
    const server = postgres;
    await bench('cluster', () => runClusterBench({ postgres: server, postgresMissing, rounds: roundsOverride ?? 2, log }));
  }
} finally {
  await influx?.stop();
  await postgres?.stop();
}

const rows = results.flatMap((r) => r.rows);
console.log(`\n${formatTable(rows)}`);
const file = writeResults(results, startedAt);
console.log(`\nwritten ${file} and bench/results/latest.json; total ${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)} s`);
