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
import { processesCpuMs } from './proc-cpu.js';
import type { ResultRow } from './report.js';
import { seedContract, seedSupplier, type BenchDevice } from './servers/seed-registry.js';

const IDLE_MS = 3000;

export type ClusterWay = 'direct' | 'haproxy-1' | 'haproxy-3';
export const CLUSTER_WAYS: readonly ClusterWay[] = ['direct', 'haproxy-1', 'haproxy-3'];

export interface ClusterBenchOptions {
  postgres: PostgresServer;
  devices: number;
  durationMs: number;
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

export interface ClusterRound {
  way: ClusterWay;
  round: number;
  nodes: number;
  connected: number;
  /** Connections each node held, from HAProxy's statistics (empty for `direct`). */
  sessionsPerNode: number[];
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU µs per acknowledged heartbeat, all nodes together / HAProxy / PostgreSQL. */
  nodeCpuUs: number;
  haproxyCpuUs: number;
  postgresCpuUs: number;
  /** Cores busy over the window (CPU time ÷ wall time). */
  nodeCores: number;
  haproxyCores: number;
  postgresCores: number;
  walBytesPerHeartbeat: number;
  ackedTotal: number;
  /** Heartbeats counted in telemetry_device_day at the end: every acknowledged one must be there. */
  storedTotal: number;
  /** Cores the nodes / HAProxy / PostgreSQL used while the devices were connected but silent (timers, health checks, node refreshes). */
  idleNodeCores: number;
  idleHaproxyCores: number;
  idlePostgresCores: number;
  disconnects: number;
  errors: string[];
}

export interface ClusterFigures {
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  nodeCpuUs: number;
  haproxyCpuUs: number;
  postgresCpuUs: number;
  /** Node CPU per heartbeat above the nodes' idle cost (what one more heartbeat costs). */
  nodeMarginalCpuUs: number;
  walBytesPerHeartbeat: number;
  /** Every round: all devices connected, no errors, every acknowledged heartbeat stored. */
  clean: boolean;
}

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
    const per = Math.ceil(o.devices / o.publishers);
    const loads = Array.from({ length: o.publishers }, (_, i) =>
      startLoad('publisher', { url, credentialsFile, window: o.window, sources: o.sources, from: i * per, to: Math.min(o.devices, (i + 1) * per) }),
    );
    try {
      const ready = await Promise.all(loads.map((l) => l.next('connected')));
      const connected = ready.reduce((s, r) => s + r.clients, 0);
      const sessionsPerNode = way === 'direct' ? [] : (await haproxyServers(cluster.statsPort)).filter((s) => s.backend === 'gateway_mqtt').map((s) => s.sessions);
      await sleep(500);
      const nodePids = cluster.nodes.map((n) => n.process!.process.pid!);
      const cpu = () => ({ at: performance.now(), node: processesCpuMs(nodePids), haproxy: processesCpuMs(haproxyPids(cluster)), postgres: processesCpuMs(o.postgres.pids()) });
      // What the processes cost with the devices connected and silent: the part of the loaded
      // CPU that does not grow with heartbeats.
      const idleFrom = cpu();
      await sleep(IDLE_MS);
      const idleTo = cpu();
      const idle = (k: 'node' | 'haproxy' | 'postgres') => (idleTo[k] - idleFrom[k]) / (idleTo.at - idleFrom.at);
      const walBefore = await walLsn(o.postgres.url);
      const before = cpu();
      for (const l of loads) l.send({ type: 'go', durationMs: o.durationMs });
      await sleep(o.durationMs);
      const after = cpu();
      const walAfter = await walLsn(o.postgres.url);
      const results = await Promise.all(loads.map((l) => l.next('published', o.durationMs + 60_000)));
      const acked = results.reduce((s, r) => s + r.ackedInWindow, 0);
      const histogram = createHistogram();
      for (const r of results) merge(histogram, r.histogram);
      const wallMs = after.at - before.at;
      // CPU over the wall window, per heartbeat acknowledged at the window's rate.
      const perHeartbeat = (ms: number) => (acked > 0 ? (ms * 1000) / ((acked / o.durationMs) * wallMs) : Number.NaN);
      const stored = await query<{ n: string }>(databaseUrl, 'SELECT coalesce(sum(heartbeats), 0)::text AS n FROM telemetry_device_day');
      return {
        way,
        round,
        nodes,
        connected,
        sessionsPerNode,
        perSecond: acked / (o.durationMs / 1000),
        p50Ms: quantile(histogram, 0.5),
        p99Ms: quantile(histogram, 0.99),
        nodeCpuUs: perHeartbeat(after.node - before.node),
        haproxyCpuUs: perHeartbeat(after.haproxy - before.haproxy),
        postgresCpuUs: perHeartbeat(after.postgres - before.postgres),
        nodeCores: (after.node - before.node) / wallMs,
        haproxyCores: (after.haproxy - before.haproxy) / wallMs,
        postgresCores: (after.postgres - before.postgres) / wallMs,
        idleNodeCores: idle('node'),
        idleHaproxyCores: idle('haproxy'),
        idlePostgresCores: idle('postgres'),
        walBytesPerHeartbeat: acked > 0 ? Number(walAfter - walBefore) / acked : Number.NaN,
        ackedTotal: results.reduce((s, r) => s + r.ackedTotal, 0),
        storedTotal: Number(stored[0]!.n),
        disconnects: results.reduce((s, r) => s + r.disconnects, 0),
        errors: [...new Set(results.flatMap((r) => r.errors))].slice(0, 5),
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
      say(
        `  round ${round} ${way.padEnd(9)} ${Math.round(r.perSecond).toLocaleString('en').padStart(6)} acks/s  p50 ${r.p50Ms.toFixed(1)} ms  p99 ${r.p99Ms.toFixed(1)} ms` +
          `  µs/hb: nodes ${r.nodeCpuUs.toFixed(0)} (${(r.nodeCores * 100).toFixed(0)}%)  haproxy ${r.haproxyCpuUs.toFixed(0)} (${(r.haproxyCores * 100).toFixed(0)}%)` +
          `  postgres ${r.postgresCpuUs.toFixed(0)} (${(r.postgresCores * 100).toFixed(0)}%)` +
          `  idle nodes ${(r.idleNodeCores * 100).toFixed(1)}% haproxy ${(r.idleHaproxyCores * 100).toFixed(1)}% postgres ${(r.idlePostgresCores * 100).toFixed(1)}%  WAL ${r.walBytesPerHeartbeat.toFixed(0)} B/hb` +
          `  connected ${r.connected}${r.sessionsPerNode.length ? ` [${r.sessionsPerNode.join('/')}]` : ''}  stored ${r.storedTotal}/${r.ackedTotal} acked` +
          `${r.errors.length ? `  errors: ${r.errors.join('; ')}` : ''}`,
      );
    }
  }
  const figures: Partial<Record<ClusterWay, ClusterFigures>> = {};
  for (const way of ways) {
    const of = rounds.filter((r) => r.way === way);
    const m = (f: (r: ClusterRound) => number) => median(of.map(f));
    figures[way] = {
      perSecond: m((r) => r.perSecond),
      p50Ms: m((r) => r.p50Ms),
      p99Ms: m((r) => r.p99Ms),
      nodeCpuUs: m((r) => r.nodeCpuUs),
      haproxyCpuUs: m((r) => r.haproxyCpuUs),
      postgresCpuUs: m((r) => r.postgresCpuUs),
      nodeMarginalCpuUs: m((r) => ((r.nodeCores - r.idleNodeCores) * 1e6) / r.perSecond),
      walBytesPerHeartbeat: m((r) => r.walBytesPerHeartbeat),
      clean: of.every((r) => r.connected === o.devices && r.errors.length === 0 && r.storedTotal >= r.ackedTotal),
    };
  }
  return { rounds, figures };
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
  // PROXY protocol off: the nodes cannot yet be told to trust HAProxy's address (GATEWAY_TRUSTED_PROXIES).
  const proxyProtocol = false;
  const devices = 3000;
  const durationMs = 15_000;
  const sources = 250;
  const run = await runCluster({ postgres: o.postgres, devices, durationMs, rounds: o.rounds, publishers: 2, window: 2, sources, proxyProtocol, log: o.log });
  const direct = run.figures.direct!;
  const ratio = (g: number, r: number) => (Number.isFinite(g) && Number.isFinite(r) && r !== 0 ? g / r : null);
  const rows: ResultRow[] = [];
  const title: Record<ClusterWay, string> = { direct: 'one node direct', 'haproxy-1': 'HAProxy → 1 node', 'haproxy-3': 'HAProxy → 3 nodes' };
  for (const way of CLUSTER_WAYS) {
    const f = run.figures[way]!;
    const against = (g: number, r: number) => (way === 'direct' ? {} : { reference: r, ratio: ratio(g, r) });
    rows.push(
      { benchmark, metric: `${title[way]}: heartbeats/s (QoS 1 acked, ${durationMs / 1000} s)`, unit: '/s', gateway: f.perSecond, ...against(f.perSecond, direct.perSecond), target: 'every ack stored', met: f.clean },
      { benchmark, metric: `${title[way]}: node CPU per heartbeat (all nodes)`, unit: 'µs', gateway: f.nodeCpuUs, ...against(f.nodeCpuUs, direct.nodeCpuUs), target: '(reported)', met: null },
      { benchmark, metric: `${title[way]}: node CPU per heartbeat above idle`, unit: 'µs', gateway: f.nodeMarginalCpuUs, ...against(f.nodeMarginalCpuUs, direct.nodeMarginalCpuUs), target: '(reported)', met: null },
      ...(way === 'direct' ? [] : [{ benchmark, metric: `${title[way]}: HAProxy CPU per heartbeat`, unit: 'µs', gateway: f.haproxyCpuUs, target: '(reported)', met: null } satisfies ResultRow]),
      { benchmark, metric: `${title[way]}: PostgreSQL CPU per heartbeat`, unit: 'µs', gateway: f.postgresCpuUs, ...against(f.postgresCpuUs, direct.postgresCpuUs), target: '(reported)', met: null },
      { benchmark, metric: `${title[way]}: PostgreSQL WAL per heartbeat`, unit: 'B', gateway: f.walBytesPerHeartbeat, target: '(reported)', met: null },
      { benchmark, metric: `${title[way]}: ack latency p99`, unit: 'ms', gateway: f.p99Ms, ...against(f.p99Ms, direct.p99Ms), target: '(reported)', met: null },
    );
  }
  const last = rows.at(-1)!;
  last.note = `${devices.toLocaleString('en')} devices from ${sources} addresses, PROXY protocol ${proxyProtocol ? 'on' : 'off'}; all processes share this machine's cores`;
  return { rows, details: { devices, durationMs, proxyProtocol, ...run } };
}
