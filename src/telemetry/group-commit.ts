import type { Logger } from '../log.js';
import type { Heartbeat, TelemetryStore } from './types.js';
import { monotonicMs } from '../clock.js';

export type CommitCallback = (err?: Error) => void;

export interface CommitStats {
  /** Heartbeats in the committed batch. */
  size: number;
  /** How long `store.append` took (monotonic, clock.ts monotonicMs). */
  durationMs: number;
}

export interface GroupCommitterOptions {
  store: Pick<TelemetryStore, 'append'>;
  /** A batch is written at most this long after its first heartbeat arrived (0 = next turn of the event loop). */
  intervalMs: number;
  /** A batch is written as soon as it holds this many heartbeats; also the largest batch ever appended. */
  maxBatch: number;
  log: Logger;
  /** Called after each successful append, for metrics. */
  onCommit?: (stats: CommitStats) => void;
}

export interface GroupCommitter {
  /**
   * Queues a heartbeat. `done` is called once its batch is durably stored — this is what
   * releases a QoS 1 PUBACK — or with the error if that append failed (the heartbeat is then
   * not stored and must not be acknowledged; it is not retried here).
   */
  add(heartbeat: Heartbeat, done?: CommitCallback): void;
  /** Writes everything queued so far; resolves when it is stored, rejects with the first failure among those batches. */
  flush(): Promise<void>;
  /** Flushes, then refuses further heartbeats (their `done` gets an error). */
  close(): Promise<void>;
  /** Heartbeats accepted but not yet stored, including the batch being written. */
  pending(): number;
}

interface Batch {
  id: number;
  heartbeats: Heartbeat[];
  /** Only the callbacks that were given; the whole batch shares one outcome. */
  callbacks: CommitCallback[];
}

interface FlushWaiter {
  /** Resolved once the batch with this id (and every earlier one) has been attempted. */
  lastBatchId: number;
  error: Error | undefined;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * Group commit (ARCHITECTURE.md "Durability before acknowledgement"): heartbeats collect in an
 * open batch that is sealed when it reaches `maxBatch` or `intervalMs` after its first
 * heartbeat. One append runs at a time; while it runs, the next batch keeps filling, so a slow
 * disk makes batches bigger instead of queueing many small transactions. The hot path
 * allocates no Promise: a heartbeat and its callback are pushed onto arrays.
 */
export function createGroupCommitter(options: GroupCommitterOptions): GroupCommitter {
  const { store, intervalMs, maxBatch, onCommit } = options;
  const log = options.log.child({ component: 'group-commit' });
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError(`maxBatch must be a positive integer, got ${maxBatch}`);
  if (!Number.isFinite(intervalMs) || intervalMs < 0) throw new RangeError(`intervalMs must be ≥ 0, got ${intervalMs}`);

  let nextBatchId = 1;
  let open: Batch = newBatch();
  /** Full batches waiting for the one in flight. */
  const sealed: Batch[] = [];
  let inFlight: Batch | undefined;
  /** The open batch's interval has elapsed; write it as soon as nothing is in flight. */
  let openDue = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let immediate: ReturnType<typeof setImmediate> | undefined;
  let queued = 0;
  let lastAttemptedId = 0;
  let closed = false;
  const waiters: FlushWaiter[] = [];

  function newBatch(): Batch {
    return { id: nextBatchId++, heartbeats: [], callbacks: [] };
  }

  function armTimer(): void {
    if (intervalMs === 0) immediate = setImmediate(onInterval);
    else timer = setTimeout(onInterval, intervalMs);
  }

  function disarmTimer(): void {
    if (timer !== undefined) clearTimeout(timer);
    if (immediate !== undefined) clearImmediate(immediate);
    timer = undefined;
    immediate = undefined;
  }

  function onInterval(): void {
    timer = undefined;
    immediate = undefined;
    openDue = true;
    pump();
  }

  /** Seals the open batch (if it holds anything) and starts a fresh one. */
  function sealOpen(): void {
    if (open.heartbeats.length === 0) return;
    disarmTimer();
    openDue = false;
    sealed.push(open);
    open = newBatch();
  }

  function pump(): void {
    if (inFlight !== undefined) return;
    if (sealed.length === 0 && openDue) sealOpen();
    const batch = sealed.shift();
    if (batch === undefined) return;
    inFlight = batch;
    const started = monotonicMs();
    let appended: Promise<void>;
    try {
      appended = store.append(batch.heartbeats);
    } catch (err) {
      appended = Promise.reject(err);
    }
    appended.then(
      () => settle(batch, undefined, monotonicMs() - started),
      (err: unknown) => settle(batch, err instanceof Error ? err : new Error(String(err)), monotonicMs() - started),
    );
  }

  function settle(batch: Batch, error: Error | undefined, durationMs: number): void {
    inFlight = undefined;
    queued -= batch.heartbeats.length;
    lastAttemptedId = batch.id;
    if (error === undefined) {
      if (onCommit !== undefined) {
        try {
          onCommit({ size: batch.heartbeats.length, durationMs });
        } catch (err) {
          log.error({ err }, 'onCommit threw');
        }
      }
    } else {
      log.error({ err: error, size: batch.heartbeats.length }, 'telemetry append failed; batch not acknowledged');
    }
    for (const callback of batch.callbacks) {
      try {
        if (error === undefined) callback();
        else callback(error);
      } catch (err) {
        log.error({ err }, 'commit callback threw');
      }
    }
    for (let i = waiters.length - 1; i >= 0; i--) {
      const waiter = waiters[i]!;
      if (error !== undefined && waiter.error === undefined && batch.id <= waiter.lastBatchId) waiter.error = error;
      if (waiter.lastBatchId <= lastAttemptedId) {
        waiters.splice(i, 1);
        if (waiter.error === undefined) waiter.resolve();
        else waiter.reject(waiter.error);
      }
    }
    pump();
  }

  function flush(): Promise<void> {
    sealOpen();
    const lastBatchId = sealed.length > 0 ? sealed[sealed.length - 1]!.id : inFlight?.id;
    if (lastBatchId === undefined) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      waiters.push({ lastBatchId, error: undefined, resolve, reject });
      pump();
    });
  }

  return {
    add(heartbeat, done) {
      if (closed) {
        done?.(new Error('group committer is closed'));
        return;
      }
      const batch = open;
      batch.heartbeats.push(heartbeat);
      if (done !== undefined) batch.callbacks.push(done);
      queued++;
      if (batch.heartbeats.length >= maxBatch) {
        sealOpen();
        pump();
      } else if (batch.heartbeats.length === 1) {
        armTimer();
      }
    },
    flush,
    close() {
      closed = true;
      return flush();
    },
    pending() {
      return queued;
    },
  };
}
