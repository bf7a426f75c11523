import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/clock.js';
import { createLogger } from '../../../src/log.js';
import { createEvidenceFlusher } from '../../../src/services/flush-evidence.js';
import { createEvidenceStore } from '../../../src/telemetry/evidence.js';
import { useSqlDb } from './sql-fixtures.js';

const at = Date.parse('2020-10-09T02:00:00Z');

describe('evidence flusher', () => {
  const useDb = useSqlDb('sqlite');

  it('never runs two flushes at once, and stores what arrived during one on the next pass', async () => {
    const { sql: db } = await useDb();
    const store = await createEvidenceStore(db, new VirtualClock(at));
    let inFlight = 0;
    let most = 0;
    let flushes = 0;
    const flusher = createEvidenceFlusher({
      evidence: {
        pendingWrites: () => store.pendingWrites(),
        async flush() {
          flushes++;
          most = Math.max(most, ++inFlight);
          try {
            return await store.flush();
          } finally {
            inFlight--;
          }
        },
      },
      intervalMs: 3_600_000,
      log: createLogger({ level: 'silent' }),
    });
    try {
      store.countRejection('dev-1', at, 'invalid-json');
      const first = flusher.flush();
      store.countRejection('dev-2', at, 'invalid-json');
      const second = flusher.flush();
      const third = flusher.flush();
      await Promise.all([first, second, third]);
      expect(most).toBe(1);
      expect(flushes).toBe(2);
      expect(store.pendingWrites()).toBe(0);
      const other = await createEvidenceStore(db, new VirtualClock(at));
      expect((await other.rejections(['dev-1', 'dev-2'], '2020-10-09', '2020-10-09')).map((r) => [r.deviceId, r.count])).toEqual([
        ['dev-1', 1],
        ['dev-2', 1],
      ]);
    } finally {
      flusher.stop();
    }
  });

  it('logs a failed flush instead of throwing, and keeps the writes queued for the next tick', async () => {
    const { sql: db, exec } = await useDb();
    const store = await createEvidenceStore(db, new VirtualClock(at));
    const lines: string[] = [];
    const flusher = createEvidenceFlusher({
      evidence: store,
      intervalMs: 3_600_000,
      log: createLogger({ level: 'error', destination: { write: (line: string) => void lines.push(line) } }),
    });
    try {
      store.countRejection('dev-1', at, 'invalid-json');
      await exec(db, 'ALTER TABLE evidence_rejection RENAME TO evidence_rejection_away');
      await flusher.flush();
      expect(lines.join('')).toMatch(/not flushed/);
      expect(store.pendingWrites()).toBe(1);
      await exec(db, 'ALTER TABLE evidence_rejection_away RENAME TO evidence_rejection');
      await flusher.flush();
      expect(store.pendingWrites()).toBe(0);
    } finally {
      flusher.stop();
    }
  });
});
