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

/**
 * A clock that only moves when told to. Its time lives in a SharedArrayBuffer (`buffer`), so a
 * gateway in a worker thread can read the time the simulator's thread sets, without a message:
 * construct it there from the buffer (the same clock, seen from another thread). The time is
 * stored as the bits of a float64, written and read atomically.
 */
export class VirtualClock implements Clock {
  readonly buffer: SharedArrayBuffer;
  readonly #bits: BigInt64Array;

  constructor(startOrBuffer: number | string | Date | SharedArrayBuffer) {
    if (startOrBuffer instanceof SharedArrayBuffer) {
      if (startOrBuffer.byteLength < 8) throw new RangeError('a shared clock needs an 8-byte buffer');
      this.buffer = startOrBuffer;
      this.#bits = new BigInt64Array(startOrBuffer, 0, 1);
    } else {
      this.buffer = new SharedArrayBuffer(8);
      this.#bits = new BigInt64Array(this.buffer, 0, 1);
      this.set(startOrBuffer);
    }
  }

  now(): number {
    scratchBits[0] = Atomics.load(this.#bits, 0);
    return scratchFloat[0]!;
  }

  set(to: number | string | Date): void {
    scratchFloat[0] = toEpochMs(to);
    Atomics.store(this.#bits, 0, scratchBits[0]!);
  }

  advance(ms: number): number {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`cannot advance a clock by ${ms} ms`);
    this.set(this.now() + ms);
    return this.now();
  }
}

/** One float64 seen as its bits (per thread; used synchronously only). */
const scratchFloat = new Float64Array(1);
const scratchBits = new BigInt64Array(scratchFloat.buffer);

function toEpochMs(value: number | string | Date): number {
  const ms = typeof value === 'number' ? value : new Date(value).getTime();
  if (!Number.isFinite(ms)) throw new RangeError(`not a time: ${String(value)}`);
  return ms;
}
