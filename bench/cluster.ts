/**
 * cluster (issue 17): the ingest benchmark against the real cluster of `npm run cluster`
 * (cluster/start-cluster.ts: gateway nodes as `node src/main.ts` processes, everything in one
 * PostgreSQL, Debian's HAProxy in front), three ways in one run:
 *
 * - `direct`: the load straight at node 1's MQTT port (HAProxy runs but carries nothing);
 * - `haproxy-1`: through HAProxy to that one node;
 * - `haproxy-3`: through HAProxy, `balance source`, to three nodes.
 *
 * Each round of each way gets a fresh database and fresh processes; rounds rotate the order.
 * Measured over the window: PUBACKs received (QoS 1: each one is a committed heartbeat), and
 * the CPU time from /proc of the node processes, of HAProxy (master and worker) and of
 * PostgreSQL (postmaster and backends), each divided by the acknowledged heartbeats; PostgreSQL's
 * WAL written over the window (pg_current_wal_lsn) per heartbeat. The devices leave from many
 * loopback source addresses, so `balance source` spreads them as it would a real fleet.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { childrenOf, type PostgresServer } from '../cluster/postgres-server.js';
import { haproxyServers } from '../cluster/haproxy.js';
import { startCluster, type Cluster } from '../cluster/start-cluster.js';
import { systemClock } from '../src/clock.js';
import { openSqlDb } from '../src/db/sql-db.js';
import { silentLogger } from '../src/log.js';
import { createRegistry } from '../src/registry/index.js';
import { createDatabase } from '../test/support/postgres.js';
import { BENCH_GATEWAY_ENV, median, sleep, startLoad } from './harness.js';
import { createHistogram, merge, quantile } from './load/histogram.js';
import { processesCpuMs, processesRssKiB } from './proc-cpu.js';
import type { ResultRow } from './report.js';
import { seedContract, seedSupplier, type BenchDevice } from './servers/seed-registry.js';

const IDLE_MS = 3000;

export type ClusterWay = 'direct' | 'haproxy-1' | 'haproxy-3';
export const CLUSTER_WAYS: readonly ClusterWay[] = ['direct', 'haproxy-1', 'haproxy-3'];

export interface ClusterBenchOptions {
  postgres: PostgresServer;
  devices: number;
  durationMs: number;
  /** Heartbeats/s of the paced phase, for the whole fleet: the same load on every way. */
  pacedRate: number;
  rounds: number;
  publishers: number;
  window: number;
  /** Loopback source addresses the fleet leaves from (bench/load/connect.ts); HAProxy hashes them. */
  sources: number;
  /** PROXY protocol v2 from HAProxy to the nodes, as deployed (needs the nodes' GATEWAY_TRUSTED_PROXIES). */
  proxyProtocol: boolean;
  ways?: readonly ClusterWay[];
  log?: (line: string) => void;
}

/** One measured window: the fleet paced at a fixed rate, or publishing as fast as acks return. */
export interface ClusterPhase {
  /** PUBACKs received inside the window, per second. */
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU µs per acknowledged heartbeat: all nodes together / HAProxy (master + worker) / PostgreSQL (postmaster + backends). */
  nodeCpuUs: number;
  haproxyCpuUs: number;
  postgresCpuUs: number;
  /** Node CPU per heartbeat above the nodes' idle cost: what one more heartbeat costs. */
  nodeMarginalCpuUs: number;
  /** Cores busy over the window (CPU time ÷ wall time). */
  nodeCores: number;
  haproxyCores: number;
  postgresCores: number;
  walBytesPerHeartbeat: number;
  /** Group commits per second (all nodes) and heartbeats per commit, from gateway_commit_batch_size. */
  commitsPerSecond: number;
  heartbeatsPerCommit: number;
  /** Paced publishes skipped because the device still had `window` heartbeats unacknowledged. */
  skipped: number;
}

export interface ClusterRound {
  way: ClusterWay;
  round: number;
  nodes: number;
  connected: number;
  /** Connections each node held, from HAProxy's statistics (empty for `direct`). */
  sessionsPerNode: number[];
  /** HAProxy's RSS (master + worker) with the devices connected, minus before they connected, per device; NaN for `direct`. */
  haproxyRssPerDeviceKiB: number;
  /** Cores the nodes / HAProxy / PostgreSQL used with the devices connected and silent (timers, health checks, node refreshes). */
  idle: { node: number; haproxy: number; postgres: number };
  paced: ClusterPhase;
  max: ClusterPhase;
  ackedTotal: number;
  /** Heartbeats counted in telemetry_device_day at the end: every acknowledged one must be there. */
  storedTotal: number;
  disconnects: number;
  errors: string[];
}

export type ClusterFigures = { [K in 'paced' | 'max']: ClusterPhase } & {
  haproxyRssPerDeviceKiB: number;
  /** Every round: all devices connected, no errors, every acknowledged heartbeat stored. */
  clean: boolean;
};

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

const walLsn = async (url: string) => BigInt((await query<{ b: string }>(url, `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text AS b`))[0]!.b);

/** Devices registered straight in the cluster's registry (the first node has migrated it). */
async function seedDevices(databaseUrl: string, devices: number): Promise<BenchDevice[]> {
  const sql = openSqlDb({ kind: 'postgres', url: databaseUrl });
  try {
    const registry = await createRegistry({ sql, clock: systemClock, log: silentLogger });
    const supplierId = await seedSupplier(registry);
    const out: BenchDevice[] = [];
    for (let left = devices; left > 0; left -= 5000) out.push(...(await seedContract(registry, supplierId, Math.min(5000, left))).devices);
    return out;
  } finally {
    await sql.close();
  }
}

/** Group commits and the heartbeats in them so far, summed over the nodes (their Prometheus metrics, admin key). */
async function commitCounts(cluster: Cluster): Promise<{ commits: number; heartbeats: number }> {
  let commits = 0;
  let heartbeats = 0;
  for (const node of cluster.nodes) {
    const res = await fetch(`http://127.0.0.1:${node.httpPort}/metrics`, { headers: { authorization: `Bearer ${cluster.adminKey}` } });
    const text = await res.text();
    const value = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
    commits += value('gateway_commit_batch_size_count');
    heartbeats += value('gateway_commit_batch_size_sum');
  }
  return { commits, heartbeats };
}

/** HAProxy's CPU: the `-W` master and its worker (the master's child). */
const haproxyPids = (cluster: Cluster) => {
  const master = cluster.haproxy.process.pid!;
  return [master, ...childrenOf(master)];
};

async function clusterRound(way: ClusterWay, round: number, o: ClusterBenchOptions): Promise<ClusterRound> {
  const nodes = way === 'haproxy-3' ? 3 : 1;
  const databaseUrl = await createDatabase(o.postgres.url, `bench_cluster_${way.replace('-', '_')}_${round}`);
  const cluster = await startCluster({
    nodes,
    databaseUrl,
    mqttHost: '127.0.0.1',
    mqttPort: 0,
    httpHost: '127.0.0.1',
    httpPort: 0,
    nodeEnv: { ...BENCH_GATEWAY_ENV, GATEWAY_LOG_LEVEL: 'error' },
    proxyProtocol: o.proxyProtocol,
  });
  const dir = mkdtempSync(join(tmpdir(), 'bench-cluster-'));
  try {
    const credentialsFile = join(dir, 'credentials.json');
    writeFileSync(credentialsFile, JSON.stringify(await seedDevices(databaseUrl, o.devices)));
    const url = way === 'direct' ? `mqtt://127.0.0.1:${cluster.nodes[0]!.mqttPort}` : `mqtt://127.0.0.1:${cluster.mqttPort}`;
    const haproxyRssBefore = processesRssKiB(haproxyPids(cluster));
    const per = Math.ceil(o.devices / o.publishers);
    const loads = Array.from({ length: o.publishers }, (_, i) =>
      startLoad('publisher', { url, credentialsFile, window: o.window, sources: o.sources, from: i * per, to: Math.min(o.devices, (i + 1) * per) }),
    );
    try {
      const ready = await Promise.all(loads.map((l) => l.next('connected')));
      const connected = ready.reduce((s, r) => s + r.clients, 0);
      const sessionsPerNode = way === 'direct' ? [] : (await haproxyServers(cluster.statsPort)).filter((s) => s.backend === 'gateway_mqtt').map((s) => s.sessions);
      const haproxyRssPerDeviceKiB = way === 'direct' ? Number.NaN : (processesRssKiB(haproxyPids(cluster)) - haproxyRssBefore) / connected;
      await sleep(500);
      const nodePids = cluster.nodes.map((n) => n.process!.process.pid!);
      const cpu = () => ({ at: performance.now(), node: processesCpuMs(nodePids), haproxy: processesCpuMs(haproxyPids(cluster)), postgres: processesCpuMs(o.postgres.pids()) });
      // What the processes cost with the devices connected and silent: the part of the loaded
      // CPU that does not grow with heartbeats.
      const idleFrom = cpu();
      await sleep(IDLE_MS);
      const idleTo = cpu();
      const idleOf = (k: 'node' | 'haproxy' | 'postgres') => (idleTo[k] - idleFrom[k]) / (idleTo.at - idleFrom.at);
      const idle = { node: idleOf('node'), haproxy: idleOf('haproxy'), postgres: idleOf('postgres') };
      const errors: string[] = [];
      let ackedTotal = 0;
      let disconnects = 0;
      const phase = async (ratePerSecond: number | undefined): Promise<ClusterPhase> => {
        const walBefore = await walLsn(o.postgres.url);
        const commitsBefore = await commitCounts(cluster);
        const before = cpu();
        const perLoad = ratePerSecond === undefined ? undefined : ratePerSecond / loads.length;
        for (const l of loads) l.send({ type: 'go', durationMs: o.durationMs, ...(perLoad === undefined ? {} : { ratePerSecond: perLoad }) });
        await sleep(o.durationMs);
        const after = cpu();
        const walAfter = await walLsn(o.postgres.url);
        const commitsAfter = await commitCounts(cluster);
        const commits = commitsAfter.commits - commitsBefore.commits;
        const results = await Promise.all(loads.map((l) => l.next('published', o.durationMs + 60_000)));
        const acked = results.reduce((s, r) => s + r.ackedInWindow, 0);
        ackedTotal += results.reduce((s, r) => s + r.ackedTotal, 0);
        disconnects += results.reduce((s, r) => s + r.disconnects, 0);
        errors.push(...results.flatMap((r) => r.errors));
        const histogram = createHistogram();
        for (const r of results) merge(histogram, r.histogram);
        const wallMs = after.at - before.at;
        const perSecond = acked / (o.durationMs / 1000);
        // CPU over the wall window, per heartbeat acknowledged at the window's rate.
        const perHeartbeat = (ms: number) => (acked > 0 ? (ms * 1000) / ((perSecond * wallMs) / 1000) : Number.NaN);
        const cores = (k: 'node' | 'haproxy' | 'postgres') => (after[k] - before[k]) / wallMs;
        return {
          perSecond,
          p50Ms: quantile(histogram, 0.5),
          p99Ms: quantile(histogram, 0.99),
          nodeCpuUs: perHeartbeat(after.node - before.node),
          haproxyCpuUs: perHeartbeat(after.haproxy - before.haproxy),
          postgresCpuUs: perHeartbeat(after.postgres - before.postgres),
          nodeMarginalCpuUs: acked > 0 ? ((cores('node') - idle.node) * 1e6) / perSecond : Number.NaN,
          nodeCores: cores('node'),
          haproxyCores: cores('haproxy'),
          postgresCores: cores('postgres'),
          walBytesPerHeartbeat: acked > 0 ? Number(walAfter - walBefore) / acked : Number.NaN,
          commitsPerSecond: (commits * 1000) / wallMs,
          heartbeatsPerCommit: commits > 0 ? (commitsAfter.heartbeats - commitsBefore.heartbeats) / commits : Number.NaN,
          skipped: results.reduce((s, r) => s + r.skipped, 0),
        };
      };
      // Paced first (the same load for every way: comparable CPU per heartbeat), then flat out.
      const paced = await phase(o.pacedRate);
      await sleep(1000);
      const max = await phase(undefined);
      const stored = await query<{ n: string }>(databaseUrl, 'SELECT coalesce(sum(heartbeats), 0)::text AS n FROM telemetry_device_day');
      return {
        way,
        round,
        nodes,
        connected,
        sessionsPerNode,
        haproxyRssPerDeviceKiB,
        idle,
        paced,
        max,
        ackedTotal,
        storedTotal: Number(stored[0]!.n),
        disconnects,
        errors: [...new Set(errors)].slice(0, 5),
      };
    } finally {
      await Promise.all(loads.map((l) => l.stop()));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await cluster.stop();
  }
}

export async function runCluster(o: ClusterBenchOptions): Promise<{ rounds: ClusterRound[]; figures: Partial<Record<ClusterWay, ClusterFigures>> }> {
  const ways = o.ways ?? CLUSTER_WAYS;
  const say = o.log ?? (() => undefined);
  const rounds: ClusterRound[] = [];
  for (let round = 1; round <= o.rounds; round++) {
    // Rotate the order so no way always runs first (on a cold machine) or last.
    const shift = (round - 1) % ways.length;
    for (const way of [...ways.slice(shift), ...ways.slice(0, shift)]) {
      const r = await clusterRound(way, round, o);
      rounds.push(r);
      const line = (name: string, p: ClusterPhase) =>
        `    ${name} ${Math.round(p.perSecond).toLocaleString('en').padStart(6)} acks/s  p50 ${p.p50Ms.toFixed(1)} ms  p99 ${p.p99Ms.toFixed(1)} ms` +
        `  µs/hb: nodes ${p.nodeCpuUs.toFixed(1)} (${(p.nodeCores * 100).toFixed(0)}%, above idle ${p.nodeMarginalCpuUs.toFixed(1)})` +
        `  haproxy ${p.haproxyCpuUs.toFixed(1)} (${(p.haproxyCores * 100).toFixed(0)}%)  postgres ${p.postgresCpuUs.toFixed(1)} (${(p.postgresCores * 100).toFixed(0)}%)` +
        `  WAL ${p.walBytesPerHeartbeat.toFixed(0)} B/hb  ${Math.round(p.commitsPerSecond)} commits/s of ${p.heartbeatsPerCommit.toFixed(1)}${p.skipped ? `  skipped ${p.skipped}` : ''}`;
      say(
        `  round ${round} ${way}: connected ${r.connected}${r.sessionsPerNode.length ? ` [${r.sessionsPerNode.join('/')}], HAProxy RSS ${r.haproxyRssPerDeviceKiB.toFixed(1)} KiB/device` : ''}` +
          `  idle: nodes ${(r.idle.node * 100).toFixed(1)}% haproxy ${(r.idle.haproxy * 100).toFixed(1)}% postgres ${(r.idle.postgres * 100).toFixed(1)}%` +
          `  stored ${r.storedTotal}/${r.ackedTotal} acked${r.errors.length ? `  errors: ${r.errors.join('; ')}` : ''}\n${line('paced', r.paced)}\n${line('max  ', r.max)}`,
      );
    }
  }
  const figures: Partial<Record<ClusterWay, ClusterFigures>> = {};
  const medianPhase = (phases: ClusterPhase[]): ClusterPhase => {
    const m = (k: keyof ClusterPhase) => median(phases.map((p) => p[k]));
    return {
      perSecond: m('perSecond'),
      p50Ms: m('p50Ms'),
      p99Ms: m('p99Ms'),
      nodeCpuUs: m('nodeCpuUs'),
      haproxyCpuUs: m('haproxyCpuUs'),
      postgresCpuUs: m('postgresCpuUs'),
      nodeMarginalCpuUs: m('nodeMarginalCpuUs'),
      nodeCores: m('nodeCores'),
      haproxyCores: m('haproxyCores'),
      postgresCores: m('postgresCores'),
      walBytesPerHeartbeat: m('walBytesPerHeartbeat'),
      commitsPerSecond: m('commitsPerSecond'),
      heartbeatsPerCommit: m('heartbeatsPerCommit'),
      skipped: m('skipped'),
    };
  };
  for (const way of ways) {
    const of = rounds.filter((r) => r.way === way);
    figures[way] = {
      paced: medianPhase(of.map((r) => r.paced)),
      max: medianPhase(of.map((r) => r.max)),
      haproxyRssPerDeviceKiB: median(of.map((r) => r.haproxyRssPerDeviceKiB)),
      clean: of.every((r) => r.connected === o.devices && r.errors.length === 0 && r.storedTotal >= r.ackedTotal),
    };
  }
  return { rounds, figures };
}

/**
 * Least squares, no intercept: y ≈ perCommit × commits/s + perHeartbeat × heartbeats/s over the
 * measured phases. A group commit has a fixed cost (a statement, a transaction, a WAL flush) and
 * each heartbeat its own, so the cost per heartbeat depends on how many share a commit; the two
 * coefficients let the capacity model (BENCHMARKS.md) price a node at another rate.
 */
export function commitAndHeartbeatCost(points: ReadonlyArray<{ commits: number; heartbeats: number; y: number }>): { perCommit: number; perHeartbeat: number; r2: number } {
  let cc = 0, ch = 0, hh = 0, cy = 0, hy = 0;
  for (const p of points) {
    cc += p.commits * p.commits;
    ch += p.commits * p.heartbeats;
    hh += p.heartbeats * p.heartbeats;
    cy += p.commits * p.y;
    hy += p.heartbeats * p.y;
  }
  const det = cc * hh - ch * ch;
  const perCommit = (cy * hh - hy * ch) / det;
  const perHeartbeat = (cc * hy - ch * cy) / det;
  const mean = points.reduce((s, p) => s + p.y, 0) / points.length;
  let residual = 0, total = 0;
  for (const p of points) {
    residual += (p.y - perCommit * p.commits - perHeartbeat * p.heartbeats) ** 2;
    total += (p.y - mean) ** 2;
  }
  return { perCommit, perHeartbeat, r2: 1 - residual / total };
}

export function haproxyAvailable(): boolean {
  return !spawnSync('haproxy', ['-v'], { stdio: 'ignore' }).error;
}

/** `npm run bench -- cluster`: the rows of the results table (BENCHMARKS.md, "cluster"). */
export async function runClusterBench(o: {
  postgres: PostgresServer | undefined;
  postgresMissing: string | undefined;
  rounds: number;
  log: (line: string) => void;
}): Promise<{ rows: ResultRow[]; details: unknown }> {
  const benchmark = 'cluster';
  const missing = !o.postgres ? o.postgresMissing : !haproxyAvailable() ? "haproxy not installed (apt-get install haproxy): cluster rows not run" : undefined;
  if (missing || !o.postgres) return { rows: [{ benchmark, metric: 'heartbeats/s through HAProxy', unit: '/s', gateway: null, target: '(reported)', met: null, note: missing }], details: { missing } };
  // As deployed: PROXY protocol v2 from HAProxy, the nodes trusting its address (GATEWAY_TRUSTED_PROXIES).
  const proxyProtocol = true;
  const devices = 3000;
  const durationMs = 12_000;
  const pacedRate = 2000;
  const sources = 250;
  const run = await runCluster({ postgres: o.postgres, devices, durationMs, pacedRate, rounds: o.rounds, publishers: 2, window: 2, sources, proxyProtocol, log: o.log });
  const direct = run.figures.direct!;
  const ratio = (g: number, r: number) => (Number.isFinite(g) && Number.isFinite(r) && r !== 0 ? g / r : null);
  const title: Record<ClusterWay, string> = { direct: 'one node direct', 'haproxy-1': 'HAProxy → 1 node', 'haproxy-3': 'HAProxy → 3 nodes' };
  const rows: ResultRow[] = [];
  for (const way of CLUSTER_WAYS) {
    const f = run.figures[way]!;
    const row = (metric: string, unit: string, pick: (p: ClusterFigures) => number, target = '(reported)', met: boolean | null = null, againstDirect = true): ResultRow => ({
      benchmark,
      metric: `${title[way]}: ${metric}`,
      unit,
      gateway: pick(f),
      ...(way === 'direct' || !againstDirect ? {} : { reference: pick(direct), ratio: ratio(pick(f), pick(direct)) }),
      target,
      met,
    });
    const paced = `at ${pacedRate.toLocaleString('en')}/s`;
    rows.push(
      row(`heartbeats/s flat out (QoS 1 acked, ${durationMs / 1000} s)`, '/s', (x) => x.max.perSecond, 'every ack stored', f.clean),
      row('ack latency p99 flat out', 'ms', (x) => x.max.p99Ms),
      row('node CPU per heartbeat flat out (all nodes)', 'µs', (x) => x.max.nodeCpuUs),
      row(`heartbeats/s paced ${paced}`, '/s', (x) => x.paced.perSecond),
      row(`node CPU per heartbeat ${paced} (all nodes)`, 'µs', (x) => x.paced.nodeCpuUs),
      row(`node CPU per heartbeat ${paced}, above idle`, 'µs', (x) => x.paced.nodeMarginalCpuUs),
      ...(way === 'direct' ? [] : [row(`HAProxy CPU per heartbeat ${paced}`, 'µs', (x) => x.paced.haproxyCpuUs, '(reported)', null, false)]),
      ...(way === 'direct' ? [] : [row('HAProxy RSS per connected device', 'KiB', (x) => x.haproxyRssPerDeviceKiB, '(reported)', null, false)]),
      row(`PostgreSQL CPU per heartbeat ${paced}`, 'µs', (x) => x.paced.postgresCpuUs),
      row(`PostgreSQL WAL per heartbeat ${paced}`, 'B', (x) => x.paced.walBytesPerHeartbeat),
      row(`heartbeats per group commit ${paced} (flat out: ${f.max.heartbeatsPerCommit.toFixed(1)})`, '', (x) => x.paced.heartbeatsPerCommit),
      row(`ack latency p99 ${paced}`, 'ms', (x) => x.paced.p99Ms),
    );
  }
  // Every phase through HAProxy (paced and flat out, 1 and 3 nodes): the deployed path.
  const phases = run.rounds.filter((r) => r.way !== 'direct').flatMap((r) => [r.paced, r.max].map((p) => ({ p, idle: r.idle })));
  const model = (y: (x: (typeof phases)[number]) => number) => commitAndHeartbeatCost(phases.map((x) => ({ commits: x.p.commitsPerSecond, heartbeats: x.p.perSecond, y: y(x) })));
  const costs = {
    node: model((x) => (x.p.nodeCores - x.idle.node) * 1e6),
    postgres: model((x) => (x.p.postgresCores - x.idle.postgres) * 1e6),
    wal: model((x) => x.p.walBytesPerHeartbeat * x.p.perSecond),
  };
  const costRow = (what: string, unit: string, c: { perCommit: number; perHeartbeat: number; r2: number }): ResultRow[] => [
    { benchmark, metric: `${what} per group commit (fit over the ${phases.length} HAProxy phases)`, unit, gateway: c.perCommit, target: '(reported)', met: null, note: `R² ${c.r2.toFixed(2)}` },
    { benchmark, metric: `${what} per heartbeat (same fit)`, unit, gateway: c.perHeartbeat, target: '(reported)', met: null },
  ];
  rows.push(...costRow('node CPU above idle', 'µs', costs.node), ...costRow('PostgreSQL CPU above idle', 'µs', costs.postgres), ...costRow('PostgreSQL WAL', 'B', costs.wal));
  rows.at(-1)!.note = `${devices.toLocaleString('en')} devices from ${sources} addresses, PROXY protocol ${proxyProtocol ? 'on' : 'off'}; nodes, HAProxy, PostgreSQL and the load share this machine's cores`;
  return { rows, details: { devices, durationMs, pacedRate, sources, proxyProtocol, costs, ...run } };
}
