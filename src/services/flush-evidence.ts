import type { Clock } from '../clock.js';
import type { ClockDriftTracker } from '../ingest/clock-drift.js';
import type { Logger } from '../log.js';
import type { EvidenceStore } from '../telemetry/index.js';

export interface EvidenceFlusher {
  /** Stores what is queued now; a failure leaves it queued for the next attempt. */
  flush(): void;
  stop(): void;
}

/**
 * Connection events and rejection counters are queued in memory (reads see them at once) and
 * stored together every `intervalMs`: a reconnect storm of 10,000 devices is a few
 * transactions, not 10,000 fsync'd INSERTs. What a crash can lose is the last interval of
 * connection evidence, never a heartbeat: heartbeats are committed before their PUBACK.
 */
export function createEvidenceFlusher(deps: {
  evidence: Pick<EvidenceStore, 'pendingWrites' | 'flush'>;
  intervalMs: number;
  log: Logger;
  /** Clock-drift segments closed by a gap or the end of their day join the evidence here (SHARED_CLOCK). */
  clockDrift?: { tracker: Pick<ClockDriftTracker, 'closeIdle' | 'take'>; clock: Clock; into: Pick<EvidenceStore, 'addClockSegments'> };
}): EvidenceFlusher {
  const { evidence, log, clockDrift } = deps;
  const flush = () => {
    if (clockDrift) {
      clockDrift.tracker.closeIdle(clockDrift.clock.now());
      clockDrift.into.addClockSegments(clockDrift.tracker.take());
    }
    if (evidence.pendingWrites() === 0) return;
    try {
      evidence.flush();
    } catch (err) {
      // Disk full or read-only: the writes stay queued and are retried on the next tick.
      log.error({ err }, 'connection events and rejection counters not flushed');
    }
  };
  const timer = setInterval(flush, deps.intervalMs);
  timer.unref();
  return {
    flush,
    stop: () => clearInterval(timer),
  };
}
