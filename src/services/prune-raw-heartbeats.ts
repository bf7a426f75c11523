import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';

export interface RawRetention {
  /** Deletes raw heartbeats older than the retention, as of the injected clock's now; resolves with how many (rows, or day partitions on PostgreSQL). */
  pruneNow(): Promise<number>;
  stop(): void;
}

/**
 * `GATEWAY_RAW_RETENTION_DAYS`: raw heartbeats kept as evidence are pruned once at start and
 * then every `everyMs`, against the injected clock (so a virtual clock ages them in a test).
 */
export function createRawRetention(deps: {
  prune(nowMs: number): number | Promise<number>;
  clock: Clock;
  everyMs: number;
  log: Logger;
}): RawRetention {
  const { clock, log } = deps;
  let running: Promise<number> | undefined;
  const pruneNow = (): Promise<number> =>
    (running ??= (async () => {
      try {
        const deleted = await deps.prune(clock.now());
        if (deleted > 0) log.info({ deleted }, 'raw heartbeats past their retention pruned');
        return deleted;
      } catch (err) {
        log.error({ err }, 'raw heartbeats not pruned');
        return 0;
      } finally {
        running = undefined;
      }
    })());
  void pruneNow();
  const timer = setInterval(() => void pruneNow(), deps.everyMs);
  timer.unref();
  return { pruneNow, stop: () => clearInterval(timer) };
}
