import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';

export interface RawRetention {
  /** Deletes raw heartbeats older than the retention, as of the injected clock's now; returns how many. */
  pruneNow(): number;
  stop(): void;
}

/**
 * `GATEWAY_RAW_RETENTION_DAYS`: raw heartbeats kept as evidence are pruned once at start and
 * then every `everyMs`, against the injected clock (so a virtual clock ages them in a test).
 */
export function createRawRetention(deps: {
  prune(nowMs: number): number;
  clock: Clock;
  everyMs: number;
  log: Logger;
}): RawRetention {
  const { clock, log } = deps;
  const pruneNow = () => {
    try {
      const deleted = deps.prune(clock.now());
      if (deleted > 0) log.info({ deleted }, 'raw heartbeats past their retention pruned');
      return deleted;
    } catch (err) {
      log.error({ err }, 'raw heartbeats not pruned');
      return 0;
    }
  };
  pruneNow();
  const timer = setInterval(pruneNow, deps.everyMs);
  timer.unref();
  return { pruneNow, stop: () => clearInterval(timer) };
}
