import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/clock.js';
import { silentLogger } from '../../../src/log.js';
import { createRawRetention } from '../../../src/services/index.js';
import { createSqliteTelemetryStore } from '../../../src/telemetry/index.js';
import { buildHeartbeat, useTempDatabase } from './fixtures.js';

const DAY = 86_400_000;

describe('raw heartbeat retention (GATEWAY_RAW_RETENTION_DAYS)', () => {
  it('prunes, on its schedule and on the virtual clock, exactly the rows older than N days', async () => {
    const { db } = useTempDatabase();
    const store = createSqliteTelemetryStore({ db, rawRetentionDays: 3 });
    const clock = new VirtualClock('2020-10-09T10:00:00+08:00');
    const t0 = clock.now();
    await store.append([
      buildHeartbeat({ seq: 1, receivedAt: t0 - 5 * DAY }),
      buildHeartbeat({ seq: 2, receivedAt: t0 - 2 * DAY }),
      buildHeartbeat({ seq: 3, receivedAt: t0 }),
    ]);
    const rawSeqs = () => store.rawHeartbeats('dev-1', 0, t0 + 30 * DAY).map((r) => r.seq);

    const retention = createRawRetention({ prune: (now) => store.prune(now), clock, everyMs: 20, log: silentLogger });
    try {
      // At start: the 5-day-old row goes, the rest are younger than 3 days.
      expect(rawSeqs()).toEqual([2, 3]);
      // Two virtual days later the scheduled run (every 20 ms) takes the next one, without being called.
      clock.advance(2 * DAY);
      await expect.poll(rawSeqs, { timeout: 2000, interval: 10 }).toEqual([3]);
      clock.advance(4 * DAY);
      await expect.poll(rawSeqs, { timeout: 2000, interval: 10 }).toEqual([]);
    } finally {
      retention.stop();
    }
  });
});
