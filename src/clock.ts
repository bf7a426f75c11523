/**
 * The only module that reads the wall clock. Everything else receives a `Clock`.
 *
 * Tests and simulators pass a `VirtualClock`, so a 30-day verification window runs in
 * seconds: the broker stamps receive times from it, the verifier is given `at` explicitly.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = Object.freeze({ now: () => Date.now() });

/**
 * Monotonic milliseconds (an arbitrary origin) for measuring how long real work took — commit
 * latency, request durations, progress, deadlines on real I/O. Never a timestamp: anything that
 * says *when* something happened comes from a `Clock`.
 */
export function monotonicMs(): number {
  return performance.now();
}

/** A clock that only moves when told to. */
export class VirtualClock implements Clock {
  #ms: number;

  constructor(start: number | string | Date) {
    this.#ms = toEpochMs(start);
  }

  now(): number {
    return this.#ms;
  }

  set(to: number | string | Date): void {
    this.#ms = toEpochMs(to);
  }

  advance(ms: number): number {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`cannot advance a clock by ${ms} ms`);
    this.#ms += ms;
    return this.#ms;
  }
}

function toEpochMs(value: number | string | Date): number {
  const ms = typeof value === 'number' ? value : new Date(value).getTime();
  if (!Number.isFinite(ms)) throw new RangeError(`not a time: ${String(value)}`);
  return ms;
}
