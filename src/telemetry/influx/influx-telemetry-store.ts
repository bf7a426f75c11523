/**
 * TelemetryStore on InfluxDB 1.x through the `influx` package: raw heartbeats, one point
 * each (points.ts), and activity computed from them at query time, so the verifier gets the
 * same DeviceDayActivity rows as from SQLite. Writes are serialised by line-protocol.ts (the
 * text the package's writePoints produced, without its per-point cost) and sent through the
 * package's request Pool; queries and database set-up go through its InfluxDB client.
 *
 * Durability before acknowledgement (ARCHITECTURE.md): `append` resolves only after
 * InfluxDB answered the write with 204, which 1.x sends after the points are in its WAL.
 * While InfluxDB is unreachable, batches wait in a bounded in-memory buffer and the writer
 * retries with back-off (100 ms doubling to 5 s); nothing in the buffer has been
 * acknowledged, so a crash there loses nothing that a device was told is stored. Once the
 * buffer would exceed `bufferMax` heartbeats, `append` rejects at once with
 * "influx buffer full: …" — the heartbeat admission then withholds the QoS 1 PUBACK and the device
 * resends later.
 */
import { InfluxDB, type IPoolOptions } from 'influx';
// The package's HTTP request pool (the one InfluxDB uses for writePoints); the write body is
// ours, serialised by line-protocol.ts.
import { Pool } from 'influx/lib/src/pool.js';
import type { Logger } from '../../log.js';
import { silentLogger } from '../../log.js';
import { DAY_MS, isDayString, shanghaiDayStart } from '../../time/shanghai.js';
import type { DeviceDayActivity, Heartbeat, StoreHealth, TelemetryStore } from '../types.js';
import { ActivityFolder, foldRawActivity, rollupRows, type InfluxQueryResponse } from './activity.js';
import { LineEncoder } from './line-protocol.js';
import { HEARTBEAT_MEASUREMENT } from './points.js';
import { ACTIVITY_MEASUREMENT, RollupState, mergeRollups, type DayRollup } from './rollup.js';
import { parseInfluxUrl } from './url.js';
import { monotonicMs, systemClock, type Clock } from '../../clock.js';
import type { ErrorCode } from '../../errors.js';

export interface InfluxTelemetryStoreOptions {
  /** `http://host:8086/<database>` (GATEWAY_INFLUX_URL). */
  url: string;
  /**
   * Retention of raw heartbeats, days (GATEWAY_INFLUX_RETENTION_DAYS, default 400); 0 keeps
   * them forever (`INF`) — for tests and replays on virtual clocks in the past, since
   * InfluxDB drops points older than the retention at write time.
   */
  retentionDays: number;
  /** Most heartbeats held in memory while InfluxDB is unreachable (GATEWAY_INFLUX_BUFFER_MAX). */
  bufferMax: number;
  log?: Logger;
  /** Times shown to people (health, logs) come from this clock; default the system clock. */
  clock?: Clock;
  /** Name of the retention policy created (or altered) at start-up and written to; default `gateway`. */
  retentionPolicy?: string;
  /** Most points per HTTP write; queued batches are coalesced up to this. Default 10,000. */
  maxPointsPerWrite?: number;
  /** Device-day rollups kept in memory (rollup.ts). Default 50,000. */
  rollupCacheSize?: number;
  /** Retry back-off while InfluxDB is unreachable. Default 100 ms doubling to 5,000 ms. */
  backoff?: { initialMs: number; maxMs: number };
  /** HTTP timeout of one request. Default 10,000 ms. */
  requestTimeoutMs?: number;
  /** How often health() is refreshed with /ping while idle (0 = never). Default 5,000 ms. */
  pingIntervalMs?: number;
  /** How long start-up keeps trying to reach InfluxDB. Default 30,000 ms. */
  startupTimeoutMs?: number;
  /** Devices per activity query (one regex each) and queries run at once. Defaults 200 and 4. */
  queryChunkSize?: number;
  queryConcurrency?: number;
  /** How long close() waits for buffered heartbeats to reach InfluxDB. Default 10,000 ms. */
  closeTimeoutMs?: number;
}

export interface InfluxTelemetryStore extends TelemetryStore {
  readonly kind: 'influx';
  readonly database: string;
  readonly retentionPolicy: string;
  /** Heartbeats accepted by append() and not yet acknowledged by InfluxDB. */
  bufferedHeartbeats(): number;
  /**
   * The same rows as dailyActivity, computed from the raw heartbeats instead of the rollups —
   * an audit of the rollups and the evidence path; slow for many devices (see rollup.ts).
   */
  rawDailyActivity(deviceIds: readonly string[], fromDay: string, toDay: string): Promise<DeviceDayActivity[]>;
}

/** Thrown (as the append rejection) when the bounded buffer cannot take a batch. */
export class InfluxBufferFullError extends Error {
  readonly code: ErrorCode = 'GW_ERR_TELEMETRY_BUFFER_FULL';
  constructor(message: string) {
    super(message);
    this.name = 'InfluxBufferFullError';
  }
}

interface PendingWrite {
  batch: readonly Heartbeat[];
  count: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

const RETRYABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED', 'UND_ERR_SOCKET']);

export async function createInfluxTelemetryStore(options: InfluxTelemetryStoreOptions): Promise<InfluxTelemetryStore> {
  const connection = parseInfluxUrl(options.url);
  const log = options.log ?? silentLogger;
  const database = connection.database;
  const retentionPolicy = options.retentionPolicy ?? 'gateway';
  const { retentionDays, bufferMax } = options;
  const clock = options.clock ?? systemClock;
  const maxPointsPerWrite = options.maxPointsPerWrite ?? 10_000;
  // One write in flight: rollup snapshots of a device-day must reach InfluxDB in order.
  // Throughput comes from coalescing queued batches into large writes instead.
  const writeConcurrency = 1;
  const rollups = new RollupState(clock.now(), options.rollupCacheSize ?? 50_000);
  const backoff = options.backoff ?? { initialMs: 100, maxMs: 5_000 };
  const pingIntervalMs = options.pingIntervalMs ?? 5_000;
  const queryChunkSize = Math.max(1, options.queryChunkSize ?? 200);
  const queryConcurrency = Math.max(1, options.queryConcurrency ?? 4);
  const closeTimeoutMs = options.closeTimeoutMs ?? 10_000;

  // Our own retry loop owns back-off; the package's pool must neither retry nor take the
  // host out of rotation (a zero delay keeps it in), or a restarted InfluxDB would be
  // ignored for up to 10 s after it is back.
  const noBackoff: NonNullable<IPoolOptions['backoff']> = { getDelay: () => 0, next: () => noBackoff, reset: () => noBackoff };
  const poolOptions: IPoolOptions = { maxRetries: 0, requestTimeout: options.requestTimeoutMs ?? 10_000, backoff: noBackoff };
  const influx = new InfluxDB({
    protocol: connection.protocol,
    host: connection.host,
    port: connection.port,
    database,
    ...(connection.username !== undefined ? { username: connection.username, password: connection.password ?? '' } : {}),
    pool: poolOptions,
  });
  // Writes: the package's Pool with the same settings and host, given the finished line
  // protocol (line-protocol.ts: the text writePoints produced, without its per-point objects,
  // coercion and escaping). Field types — seq & co integers (`17i`), metrics always floats —
  // are fixed by the encoder as the package's schemas fixed them before.
  const writePool = new Pool(poolOptions);
  writePool.addHost(`${connection.protocol}://${connection.host.includes(':') ? `[${connection.host}]` : connection.host}:${connection.port}`);
  const writeQuery = { db: database, precision: 'n', rp: retentionPolicy };
  // What writePoints sent: the URL's credentials, else the package's default root:root.
  const writeAuth = connection.username !== undefined ? `${connection.username}:${connection.password ?? ''}` : 'root:root';
  const encoder = new LineEncoder();

  await ensureDatabase();

  let closed = false;
  let buffered = 0;
  const queue: PendingWrite[] = [];
  let writersRunning = 0;
  /** When writes started failing: `at` (injected clock) to show, `mono` (stopwatch) to measure the outage. */
  let writeFailingSince: { at: number; mono: number } | null = null;
  let lastWriteError = '';
  let pingFailure: string | null = null;
  let abandoned = false;
  const drainWaiters: Array<() => void> = [];

  const pingTimer =
    pingIntervalMs > 0
      ? setInterval(() => {
          influx.ping(Math.min(2_000, pingIntervalMs)).then(
            (hosts) => {
              const down = hosts.find((h) => !h.online);
              pingFailure = down ? `InfluxDB at ${connection.display} does not answer /ping` : null;
              if (!down && queue.length === 0 && buffered === 0) writeFailingSince = null;
            },
            (err: unknown) => {
              pingFailure = `InfluxDB at ${connection.display} does not answer /ping: ${errorMessage(err)}`;
            },
          );
        }, pingIntervalMs)
      : undefined;
  pingTimer?.unref();

  log.info({ url: connection.display, retentionPolicy, retentionDays, bufferMax }, 'influx telemetry store ready');

  const store: InfluxTelemetryStore = {
    kind: 'influx',
    database,
    retentionPolicy,

    bufferedHeartbeats: () => buffered,

    append(batch) {
      if (closed) return Promise.reject(new Error('influx telemetry store is closed'));
      if (batch.length === 0) return Promise.resolve();
      if (buffered + batch.length > bufferMax) {
        const err = new InfluxBufferFullError(
          `influx buffer full: ${buffered} heartbeats already waiting for InfluxDB at ${connection.display}` +
            `${writeFailingSince !== null ? ` (writes failing since ${new Date(writeFailingSince.at).toISOString()}: ${lastWriteError})` : ''}` +
            `, GATEWAY_INFLUX_BUFFER_MAX=${bufferMax}; refusing a batch of ${batch.length} — not stored, not acknowledged`,
        );
        log.error({ buffered, bufferMax, batch: batch.length }, err.message);
        return Promise.reject(err);
      }
      try {
        validate(batch);
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
      buffered += batch.length;
      return new Promise<void>((resolve, reject) => {
        queue.push({ batch, count: batch.length, resolve, reject });
        startWriters();
      });
    },

    async dailyActivity(deviceIds, fromDay, toDay) {
      const rows: import('./rollup.js').RollupRow[] = [];
      await queryChunks(deviceIds, fromDay, toDay, async (chunk, fromMs, toMs) => {
        const response = (await influx.queryRaw(rollupQuery(retentionPolicy, chunk, fromMs, toMs), {
          database,
          precision: 'ms',
          method: 'POST',
        })) as InfluxQueryResponse;
        for (const row of rollupRows(response)) rows.push(row);
      });
      return mergeRollups(rows);
    },

    async rawDailyActivity(deviceIds, fromDay, toDay) {
      const folder = new ActivityFolder();
      await queryChunks(deviceIds, fromDay, toDay, async (chunk, fromMs, toMs) => {
        const response = (await influx.queryRaw(activityQuery(retentionPolicy, chunk, fromMs, toMs), {
          database,
          precision: 'ms',
          method: 'POST',
        })) as InfluxQueryResponse;
        foldRawActivity(folder, response);
      });
      return folder.rows();
    },

    health(): StoreHealth {
      if (writeFailingSince !== null) {
        return {
          status: 'degraded',
          detail:
            `InfluxDB writes failing since ${new Date(writeFailingSince.at).toISOString()} (${lastWriteError}); ` +
            `${buffered} heartbeats buffered of ${bufferMax}`,
        };
      }
      if (pingFailure !== null) return { status: 'degraded', detail: pingFailure };
      if (buffered > bufferMax / 2) return { status: 'degraded', detail: `${buffered} heartbeats buffered of ${bufferMax}` };
      return { status: 'ok' };
    },

    async close() {
      if (closed) return;
      closed = true;
      if (pingTimer) clearInterval(pingTimer);
      if (buffered > 0) {
        const drained = new Promise<void>((resolve) => drainWaiters.push(resolve));
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), closeTimeoutMs);
        });
        const outcome = await Promise.race([drained, timedOut]);
        clearTimeout(timer);
        if (outcome === 'timeout') {
          abandoned = true;
          const lost = queue.splice(0);
          for (const w of lost) buffered -= w.count;
          for (const w of lost) w.reject(new Error('influx telemetry store closed before InfluxDB accepted the batch'));
          log.error({ heartbeats: buffered }, 'closing with heartbeats InfluxDB never accepted (none of them was acknowledged)');
        }
      }
    },
  };
  return store;

  /** Runs `run` over chunks of device ids (one regex each), a few at a time. */
  async function queryChunks(
    deviceIds: readonly string[],
    fromDay: string,
    toDay: string,
    run: (chunk: string[], fromMs: number, toMs: number) => Promise<void>,
  ): Promise<void> {
    if (!isDayString(fromDay) || !isDayString(toDay)) throw new RangeError(`days must be YYYY-MM-DD: ${fromDay}..${toDay}`);
    const ids = [...new Set(deviceIds)].filter((id) => id !== '');
    if (ids.length === 0 || fromDay > toDay) return;
    const fromMs = shanghaiDayStart(fromDay);
    const toMs = shanghaiDayStart(toDay) + DAY_MS;
    const chunks: string[][] = [];
    for (let i = 0; i < ids.length; i += queryChunkSize) chunks.push(ids.slice(i, i + queryChunkSize));
    let next = 0;
    const worker = async () => {
      while (next < chunks.length) await run(chunks[next++]!, fromMs, toMs);
    };
    await Promise.all(Array.from({ length: Math.min(queryConcurrency, chunks.length) }, worker));
  }

  function validate(batch: readonly Heartbeat[]): void {
    for (const hb of batch) {
      if (!Number.isSafeInteger(hb.receivedAt) || hb.receivedAt < 0) throw new TypeError(`heartbeat of ${hb.deviceId} has no valid receivedAt`);
      if (!Number.isSafeInteger(hb.seq)) throw new TypeError(`heartbeat of ${hb.deviceId} has no integer seq`);
      if (!hb.deviceId) throw new TypeError('heartbeat without deviceId');
    }
  }

  /** One write body: the heartbeats' lines, then the device-day snapshots' lines. */
  function writeBody(heartbeats: readonly Heartbeat[], planned: readonly DayRollup[]): Buffer {
    const lines: string[] = [];
    encoder.heartbeatLines(heartbeats, lines);
    for (const r of planned) lines.push(encoder.rollup(r));
    // Encoded once here; given a string, the pool would encode it twice (content-length, then the socket).
    return Buffer.from(lines.join('\n'), 'utf8');
  }

  function writeLines(body: Buffer): Promise<void> {
    return writePool.discard({
      method: 'POST',
      path: '/write',
      query: writeQuery,
      // IPoolRequestOptions types the body as a string; http's write takes a Buffer as well.
      body: body as unknown as string,
      auth: writeAuth,
    });
  }

  function startWriters(): void {
    while (writersRunning < writeConcurrency && queue.length > 0) {
      writersRunning += 1;
      void runWriter().finally(() => {
        writersRunning -= 1;
        if (queue.length > 0) startWriters();
        else if (writersRunning === 0 && buffered === 0) for (const done of drainWaiters.splice(0)) done();
      });
    }
  }

  async function runWriter(): Promise<void> {
    while (queue.length > 0) {
      // Coalesce queued batches into one HTTP write.
      const group: PendingWrite[] = [queue.shift()!];
      let size = group[0]!.count;
      while (queue.length > 0 && size + queue[0]!.count <= maxPointsPerWrite) {
        const w = queue.shift()!;
        group.push(w);
        size += w.count;
      }
      const heartbeats = group.length === 1 ? group[0]!.batch : group.flatMap((w) => w.batch);
      // Raw points and the device-day snapshots travel in one write: acknowledged together.
      let planned: DayRollup[];
      let body: Buffer;
      try {
        planned = rollups.plan(heartbeats);
        body = writeBody(heartbeats, planned);
      } catch (err) {
        buffered -= size;
        const invalid = err instanceof Error ? err : new Error(String(err));
        for (const w of group) w.reject(invalid);
        continue;
      }
      let delay = backoff.initialMs;
      for (;;) {
        try {
          await writeLines(body);
          if (writeFailingSince !== null) {
            log.warn({ downForMs: monotonicMs() - writeFailingSince.mono }, 'InfluxDB writes succeed again');
            writeFailingSince = null;
            pingFailure = null;
          }
          rollups.commit(planned);
          buffered -= size;
          for (const w of group) w.resolve();
          break;
        } catch (err) {
          const message = errorMessage(err);
          if (!isRetryable(err)) {
            // InfluxDB refused the points themselves (4xx): retrying cannot help. The batch is
            // rejected, so none of it is acknowledged.
            log.error({ err: message, points: size }, 'InfluxDB refused a write');
            buffered -= size;
            const refusal = new Error(`InfluxDB refused the write: ${message}`);
            for (const w of group) w.reject(refusal);
            break;
          }
          if (writeFailingSince === null) {
            writeFailingSince = { at: clock.now(), mono: monotonicMs() };
            log.error({ err: message, buffered }, 'InfluxDB unreachable; buffering heartbeats and retrying');
          }
          lastWriteError = message;
          if (abandoned) {
            // close() gave up waiting: reject rather than retry forever after shutdown.
            buffered -= size;
            const gaveUp = new Error(`influx telemetry store closed while InfluxDB was unreachable: ${message}`);
            for (const w of group) w.reject(gaveUp);
            break;
          }
          await sleep(delay);
          delay = Math.min(backoff.maxMs, delay * 2);
        }
      }
    }
  }

  async function ensureDatabase(): Promise<void> {
    const deadline = monotonicMs() + (options.startupTimeoutMs ?? 30_000);
    let delay = 200;
    for (;;) {
      try {
        await influx.createDatabase(database); // CREATE DATABASE is idempotent in 1.x
        const policies = await influx.showRetentionPolicies(database);
        const duration = retentionDays > 0 ? `${retentionDays}d` : 'INF';
        const rpOptions = { database, duration, replication: 1, isDefault: true };
        if (policies.some((p) => p.name === retentionPolicy)) await influx.alterRetentionPolicy(retentionPolicy, rpOptions);
        else await influx.createRetentionPolicy(retentionPolicy, rpOptions);
        return;
      } catch (err) {
        if (!isRetryable(err) || monotonicMs() + delay > deadline) {
          throw new Error(`cannot prepare InfluxDB database ${connection.display}: ${errorMessage(err)}`);
        }
        log.warn({ err: errorMessage(err), url: connection.display }, 'InfluxDB not reachable yet; retrying');
        await sleep(delay);
        delay = Math.min(2_000, delay * 2);
      }
    }
  }
}

/** The raw activity query of one chunk of devices: receive time, seq, skew and coincidence. */
export function activityQuery(retentionPolicy: string, deviceIds: readonly string[], fromMs: number, toMs: number): string {
  const alternatives = deviceIds.map(escapeRegex).join('|');
  return (
    `SELECT "seq", "skewAbsMs", "coincident" FROM "${retentionPolicy.replace(/"/g, '\\"')}"."${HEARTBEAT_MEASUREMENT}" ` +
    `WHERE "device" =~ /^(?:${alternatives})$/ AND time >= ${fromMs}ms AND time < ${toMs}ms GROUP BY "device"`
  );
}

/** The rollup query of one chunk of devices (rollup.ts): every generation's point of each device-day. */
export function rollupQuery(retentionPolicy: string, deviceIds: readonly string[], fromMs: number, toMs: number): string {
  const alternatives = deviceIds.map(escapeRegex).join('|');
  return (
    `SELECT "minuteMap", "heartbeats", "firstSeen", "lastSeen", "lastSeq", "skewSamples", "skewAbsSumMs", "coincident" ` +
    `FROM "${retentionPolicy.replace(/"/g, '\\"')}"."${ACTIVITY_MEASUREMENT}" ` +
    `WHERE "device" =~ /^(?:${alternatives})$/ AND time >= ${fromMs}ms AND time < ${toMs}ms GROUP BY "device"`
  );
}

/** Regex-escapes a device id for an InfluxQL regex literal (also `/`, its delimiter). */
export function escapeRegex(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\/]/g, (c) => `\\${c}`);
}

function isRetryable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'ServiceNotAvailableError' || err.constructor.name === 'ServiceNotAvailableError') return true;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && RETRYABLE_CODES.has(code)) return true;
  if (/No host available|timed out|socket hang up/i.test(err.message)) return true;
  // RequestError: "A 503 … error occurred" — 5xx is the server's trouble, not the points'.
  return /^A 5\d\d /.test(err.message);
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return err.message || (typeof code === 'string' ? code : err.name);
  }
  return String(err);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
