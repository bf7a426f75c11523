import { describe, expect, it } from 'vitest';
import { runIngest } from '../../bench/ingest.js';

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
