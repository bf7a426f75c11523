/**
 * Keeps an evidence store's reads and its flush apart. A read answers stored rows plus the
 * counters still in memory; a flush moves counters from memory into the database. Were a read's
 * SELECT to run before the flush commits and its merge of memory after the flush took the
 * counters, those counters would be missing from the answer (or, the other way round, counted
 * twice). So a flush waits for the reads under way and holds new ones back until it has
 * committed or put the counters back; reads run side by side; flushes run one at a time.
 */
export interface FlushGate {
  read<T>(fn: () => Promise<T>): Promise<T>;
  flush<T>(fn: () => Promise<T>): Promise<T>;
}

export function createFlushGate(): FlushGate {
  let readers = 0;
  let flushing: Promise<void> | undefined;
  let readersDone: (() => void) | undefined;

  return {
    async read(fn) {
      while (flushing) await flushing;
      readers++;
      try {
        return await fn();
      } finally {
        if (--readers === 0) readersDone?.();
      }
    },
    async flush(fn) {
      while (flushing) await flushing;
      let release!: () => void;
      flushing = new Promise<void>((resolve) => (release = resolve));
      try {
        if (readers > 0) await new Promise<void>((resolve) => (readersDone = resolve));
        readersDone = undefined;
        return await fn();
      } finally {
        flushing = undefined;
        release();
      }
    },
  };
}

/** Splits rows for multi-row statements (bound parameters stay far below both databases' limits). */
export function chunks<T>(rows: readonly T[], size = 500): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

/** Orders composite keys (strings by code unit, numbers numerically), so every writer locks rows in one order. */
export function compareKeys(a: readonly (string | number)[], b: readonly (string | number)[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}
