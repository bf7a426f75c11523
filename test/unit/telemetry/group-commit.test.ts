import { describe, it, expect, vi, afterEach } from 'vitest';
import { createGroupCommitter, type CommitStats } from '../../../src/telemetry/group-commit.js';
import { silentLogger } from '../../../src/log.js';
import type { Heartbeat } from '../../../src/telemetry/types.js';
import { buildHeartbeat } from './fixtures.js';

/** A store whose appends stay pending until the test settles them, one by one. */
function buildControlledStore() {
  const calls: Array<{ batch: Heartbeat[]; resolve: () => void; reject: (err: Error) => void }> = [];
  return {
    calls,
    store: {
      append(batch: readonly Heartbeat[]): Promise<void> {
        return new Promise<void>((resolve, reject) => calls.push({ batch: [...batch], resolve, reject }));
      },
    },
  };
}

/** Lets promise callbacks (then/catch chains) run. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

const seqs = (batch: Heartbeat[]): number[] => batch.map((hb) => hb.seq);

afterEach(() => {
  vi.useRealTimers();
});

describe('group committer', () => {
  it('calls done only after its batch has been durably appended', async () => {
    vi.useFakeTimers();
    const { store, calls } = buildControlledStore();
    const committer = createGroupCommitter({ store, intervalMs: 5, maxBatch: 100, log: silentLogger });
    const done = vi.fn();
    committer.add(buildHeartbeat({ seq: 1 }), done);
    committer.add(buildHeartbeat({ seq: 2 }), done);
    expect(calls).toHaveLength(0);

    vi.advanceTimersByTime(5);
    expect(calls).toHaveLength(1);
    expect(seqs(calls[0]!.batch)).toEqual([1, 2]);
    await settle();
    expect(done).not.toHaveBeenCalled();

    calls[0]!.resolve();
    await settle();
    expect(done).toHaveBeenCalledTimes(2);
    expect(done).toHaveBeenCalledWith();
    expect(committer.pending()).toBe(0);
  });

  it('waits intervalMs after the first pending heartbeat, not after the last', async () => {
    vi.useFakeTimers();
    const { store, calls } = buildControlledStore();
    const committer = createGroupCommitter({ store, intervalMs: 10, maxBatch: 100, log: silentLogger });
    committer.add(buildHeartbeat({ seq: 1 }));
    vi.advanceTimersByTime(6);
    committer.add(buildHeartbeat({ seq: 2 }));
    vi.advanceTimersByTime(3);
    expect(calls).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(calls).toHaveLength(1);
    expect(seqs(calls[0]!.batch)).toEqual([1, 2]);
  });

  it('appends at once when maxBatch is reached, without waiting for the interval', () => {
    vi.useFakeTimers();
    const { store, calls } = buildControlledStore();
    const committer = createGroupCommitter({ store, intervalMs: 60_000, maxBatch: 3, log: silentLogger });
    committer.add(buildHeartbeat({ seq: 1 }));
    committer.add(buildHeartbeat({ seq: 2 }));
    expect(calls).toHaveLength(0);
    committer.add(buildHeartbeat({ seq: 3 }));
    expect(calls).toHaveLength(1);
    expect(seqs(calls[0]!.batch)).toEqual([1, 2, 3]);
    expect(committer.pending()).toBe(3);
  });

  it('keeps one append in flight and gathers what arrives meanwhile into the next batch', async () => {
    vi.useFakeTimers();
    const { store, calls } = buildControlledStore();
    const committer = createGroupCommitter({ store, intervalMs: 5, maxBatch: 100, log: silentLogger });
    committer.add(buildHeartbeat({ seq: 1 }));
    vi.advanceTimersByTime(5);
    expect(calls).toHaveLength(1);

    for (let seq = 2; seq <= 4; seq++) {
      committer.add(buildHeartbeat({ seq }));
      vi.advanceTimersByTime(5); // each heartbeat's interval elapses while the first append is still running
    }
    expect(calls).toHaveLength(1);
    expect(committer.pending()).toBe(4);

    calls[0]!.resolve();
    await settle();
    expect(calls).toHaveLength(2);
    expect(seqs(calls[1]!.batch)).toEqual([2, 3, 4]);
  });

  it('never appends more than maxBatch heartbeats at once, even after a slow append', async () => {
    vi.useFakeTimers();
    const { store, calls } = buildControlledStore();
    const committer = createGroupCommitter({ store, intervalMs: 5, maxBatch: 2, log: silentLogger });
    for (let seq = 1; seq <= 7; seq++) committer.add(buildHeartbeat({ seq }));
    vi.advanceTimersByTime(5);
    const batches: number[][] = [];
    while (calls.length > batches.length) {
      batches.push(seqs(calls[batches.length]!.batch));
      calls[batches.length - 1]!.resolve();
      await settle();
      vi.advanceTimersByTime(5);
    }
    expect(batches).toEqual([[1, 2], [3, 4], [5, 6], [7]]);
  });

  it('reports a failed append to every done of that batch and still stores later batches', async () => {
    vi.useFakeTimers();
    const { store, calls } = buildControlledStore();
    const committer = createGroupCommitter({ store, intervalMs: 5, maxBatch: 2, log: silentLogger });
    const failed = [vi.fn(), vi.fn()];
    const later = [vi.fn(), vi.fn()];
    committer.add(buildHeartbeat({ seq: 1 }), failed[0]);
    committer.add(buildHeartbeat({ seq: 2 }), failed[1]);
    committer.add(buildHeartbeat({ seq: 3 }), later[0]);
    committer.add(buildHeartbeat({ seq: 4 }), later[1]);

    const diskFull = new Error('SQLITE_FULL');
    calls[0]!.reject(diskFull);
    await settle();
    for (const done of failed) expect(done).toHaveBeenCalledExactlyOnceWith(diskFull);
    for (const done of later) expect(done).not.toHaveBeenCalled();

    expect(calls).toHaveLength(2);
    expect(seqs(calls[1]!.batch)).toEqual([3, 4]);
    calls[1]!.resolve();
    await settle();
    for (const done of later) expect(done).toHaveBeenCalledExactlyOnceWith();
    expect(committer.pending()).toBe(0);
  });

  it('turns an append that throws synchronously into an error for that batch', async () => {
    const done = vi.fn();
    const committer = createGroupCommitter({
      store: {
        append() {
          throw new Error('boom');
        },
      },
      intervalMs: 0,
      maxBatch: 1,
      log: silentLogger,
    });
    committer.add(buildHeartbeat(), done);
    await settle();
    expect(done).toHaveBeenCalledExactlyOnceWith(expect.objectContaining({ message: 'boom' }));
  });

  it('flushes everything pending on close and refuses heartbeats afterwards', async () => {
    const appended: number[][] = [];
    const committer = createGroupCommitter({
      store: {
        async append(batch) {
          appended.push(seqs([...batch]));
        },
      },
      intervalMs: 60_000,
      maxBatch: 100,
      log: silentLogger,
    });
    const done = vi.fn();
    committer.add(buildHeartbeat({ seq: 1 }), done);
    committer.add(buildHeartbeat({ seq: 2 }), done);
    await committer.close();
    expect(appended).toEqual([[1, 2]]);
    expect(done).toHaveBeenCalledTimes(2);

    const refused = vi.fn();
    committer.add(buildHeartbeat({ seq: 3 }), refused);
    expect(refused).toHaveBeenCalledExactlyOnceWith(expect.any(Error));
    expect(appended).toEqual([[1, 2]]);
  });

  it('rejects flush when a batch it waited for failed', async () => {
    const committer = createGroupCommitter({
      store: { append: () => Promise.reject(new Error('disk I/O error')) },
      intervalMs: 60_000,
      maxBatch: 100,
      log: silentLogger,
    });
    committer.add(buildHeartbeat());
    await expect(committer.flush()).rejects.toThrow('disk I/O error');
    await expect(committer.flush()).resolves.toBeUndefined();
  });

  it('resolves flush when nothing is pending', async () => {
    const committer = createGroupCommitter({ store: buildControlledStore().store, intervalMs: 5, maxBatch: 10, log: silentLogger });
    await expect(committer.flush()).resolves.toBeUndefined();
  });

  it('reports each committed batch size and duration to onCommit', async () => {
    const stats: CommitStats[] = [];
    const committer = createGroupCommitter({
      store: { append: async () => {} },
      intervalMs: 60_000,
      maxBatch: 2,
      log: silentLogger,
      onCommit: (s) => stats.push(s),
    });
    for (let seq = 1; seq <= 3; seq++) committer.add(buildHeartbeat({ seq }));
    await committer.flush();
    expect(stats.map((s) => s.size)).toEqual([2, 1]);
    for (const s of stats) expect(s.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('keeps acknowledging the rest of a batch when one done callback throws', async () => {
    const committer = createGroupCommitter({ store: { append: async () => {} }, intervalMs: 0, maxBatch: 10, log: silentLogger });
    const second = vi.fn();
    committer.add(buildHeartbeat({ seq: 1 }), () => {
      throw new Error('callback bug');
    });
    committer.add(buildHeartbeat({ seq: 2 }), second);
    await committer.flush();
    expect(second).toHaveBeenCalledOnce();
  });

  it('rejects a maxBatch below 1 and a negative interval', () => {
    const store = buildControlledStore().store;
    expect(() => createGroupCommitter({ store, intervalMs: 5, maxBatch: 0, log: silentLogger })).toThrow(RangeError);
    expect(() => createGroupCommitter({ store, intervalMs: -1, maxBatch: 10, log: silentLogger })).toThrow(RangeError);
  });
});
