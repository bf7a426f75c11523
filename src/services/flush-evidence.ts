import type { Clock } from '../clock.js';
import type { ClockDriftTracker } from '../ingest/clock-drift.js';
import type { Logger } from '../log.js';
import type { EvidenceStore } from '../telemetry/index.js';

export interface EvidenceFlusher {
  /**
   * Stores what is queued now; a failure is logged and leaves it queued for the next attempt.
   * A call while a flush is under way waits for it and then flushes what arrived meanwhile, so
   * two flushes never overlap.
   */
  flush(): Promise<void>;
  stop(): void;
}

/**
 * Connection events and rejection counters are queued in memory (reads see them at once) and
 * stored together every `intervalMs`: a reconnect storm of 10,000 devices is a few
 * transactions, not 10,000 fsync'd INSERTs. What a crash can lose is the last interval of
 * connection evidence, never a heartbeat: heartbeats are committed before their PUBACK.
 */
export function createEvidenceFlusher(deps: {
  evidence: { pendingWrites(): number; flush(): Promise<unknown> };
  intervalMs: number;
  log: Logger;
  /** Clock-drift segments closed by a gap or the end of their day join the evidence here (SHARED_CLOCK). */
  clockDrift?: { tracker: Pick<ClockDriftTracker, 'closeIdle' | 'take'>; clock: Clock; into: Pick<EvidenceStore, 'addClockSegments'> };
}): EvidenceFlusher {
  const { evidence, log, clockDrift } = deps;
  const flushOnce = async (): Promise<void> => {
    if (clockDrift) {
      clockDrift.tracker.closeIdle(clockDrift.clock.now());
      clockDrift.into.addClockSegments(clockDrift.tracker.take());
    }
    if (evidence.pendingWrites() === 0) return;
    try {
      await evidence.flush();
    } catch (err) {
      // Disk full, read-only or the database unreachable: the writes stay queued and are retried on the next tick.
      log.error({ err }, 'connection events and rejection counters not flushed');
    }
  };
  let running: Promise<void> | undefined;
  let again = false;
  const flush = (): Promise<void> => {
    if (running) {
      // One flush at a time: the one under way runs once more when it ends, for what arrived meanwhile.
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await flushOnce();
        } while (again);
      } finally {
        running = undefined;
      }
    })();
    return running;
  };
  // A tick that finds a flush under way only asks for another pass; a slow database never piles up flushes.
  const timer = setInterval(() => void flush(), deps.intervalMs);
  timer.unref();
  return {
    flush,
    stop: () => clearInterval(timer),
  };
}
