import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCluster } from '../../bench/cluster.js';
import { runIngest } from '../../bench/ingest.js';
import { startPostgres, type PostgresServer } from '../support/postgres.js';

/**
 * The ingest benchmark in miniature (bench/ingest.ts, the same server and load processes as
 * `npm run bench -- ingest`): 200 devices for 3 s against the gateway only, so the benchmark
 * cannot rot. No speed is asserted here — speed targets live in BENCHMARKS.md, not in tests.
 */
describe('ingest benchmark (smoke)', () => {
  it('acknowledges heartbeats, and the gateway committed every acknowledged one', async () => {
    const run = await runIngest({
      devices: 200,
      durationMs: 3000,
      rounds: 1,
      publishers: 1,
      window: 2,
      sources: 10,
      variants: [{ label: 'gateway', kind: 'gateway' }],
    });
    const [round] = run.rounds;
    expect(round!.connected).toBe(200);
    expect(round!.errors).toEqual([]);
    expect(round!.ackedTotal).toBeGreaterThan(0);
    expect(round!.committedTotal).toBeGreaterThanOrEqual(round!.ackedTotal);
    expect(run.figures.gateway!.clean).toBe(true);
  });
});

/**
 * `npm run bench -- cluster` in miniature (bench/cluster.ts): 90 devices through HAProxy to three
 * real gateway nodes, 2 s paced and 2 s flat out. No speed asserted; what must hold is that the
 * fleet spreads over the nodes, every acknowledged heartbeat is stored, and each process's CPU
 * is found.
 */
describe('cluster benchmark (smoke)', () => {
  let postgres: PostgresServer;
  beforeAll(async () => {
    postgres = await startPostgres({ maxConnections: 100 });
  }, 60_000);
  afterAll(async () => {
    await postgres?.stop();
  });

  it('spreads the devices over three nodes, stores every acknowledged heartbeat and charges nodes, HAProxy and PostgreSQL', async () => {
    const run = await runCluster({ postgres, devices: 90, durationMs: 2000, pacedRate: 100, rounds: 1, publishers: 1, window: 2, sources: 30, proxyProtocol: true, ways: ['haproxy-3'] });
    const [round] = run.rounds;
    expect(round!.connected).toBe(90);
    expect(round!.errors).toEqual([]);
    expect(round!.sessionsPerNode).toHaveLength(3);
    for (const sessions of round!.sessionsPerNode) expect(sessions).toBeGreaterThan(0);
    expect(round!.ackedTotal).toBeGreaterThan(0);
    expect(round!.storedTotal).toBeGreaterThanOrEqual(round!.ackedTotal);
    for (const phase of [round!.paced, round!.max]) {
      expect(phase.perSecond).toBeGreaterThan(0);
      expect(phase.commitsPerSecond).toBeGreaterThan(0);
    }
    // /proc counts CPU in 10 ms ticks: only the flat-out window is sure to have used several in each process.
    expect(round!.max.nodeCpuUs).toBeGreaterThan(0);
    expect(round!.max.haproxyCpuUs).toBeGreaterThan(0);
    expect(round!.max.postgresCpuUs).toBeGreaterThan(0);
    expect(run.figures['haproxy-3']!.clean).toBe(true);
  }, 180_000);
});
