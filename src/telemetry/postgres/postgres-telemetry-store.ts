import pg from 'pg';
import { AppError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { silentLogger } from '../../log.js';
import { monotonicMs, systemClock, type Clock } from '../../clock.js';
import { isUnreachable, migratePostgres, numericTypes } from '../../db/postgres.js';
import { coalesce } from '../day-accumulator.js';
import { DAY_MS, dayNumberToString, shanghaiDayNumber } from '../../time/shanghai.js';
import { MINUTE_MAP_BYTES, type ActivityOptions, type DeviceDayActivity, type Heartbeat, type StoreHealth, type TelemetryStore } from '../types.js';
import { postgresTelemetryMigrations } from './schema.js';
import { activityDayRange } from '../activity-range.js';

export interface PostgresTelemetryStoreOptions {
  /** `postgres://user:password@host:port/database` (GATEWAY_DATABASE_URL). */
  url: string;
  log?: Logger;
  /** Times shown to people (health) come from this clock; default the system clock. */
  clock?: Clock;
  /** Probing back-off while PostgreSQL is unreachable. Default 100 ms doubling to 5,000 ms. */
  backoff?: { initialMs: number; maxMs: number };
  /** Connections in the pool (appends run one at a time; the rest serve verifications). Default 8. */
  poolSize?: number;
  /** A connection attempt or a statement taking longer fails (and counts as unreachable). Default 10,000 ms. */
  timeoutMs?: number;
  /** Days of raw heartbeats to keep (GATEWAY_RAW_RETENTION_DAYS); 0 keeps none. Default 0. */
  rawRetentionDays?: number;
}

export interface PostgresTelemetryStore extends TelemetryStore {
  readonly kind: 'postgres';
  /** Drops the raw-heartbeat partitions of days wholly past the retention; returns how many. */
  prune(nowMs: number): Promise<number>;
}

/** Devices per activity query: bounds the text and bytea one statement aggregates (as the SQLite store's chunk). */
const ACTIVITY_CHUNK = 1000;

/** Numbers per row in the activity query's flat list (see the statement). */
const COUNTERS = 10;

/**
 * One statement per batch (the group commit's whole batch, coalesced to one row per device-day):
 * the batch travels as nine arrays, unnested into rows, and the minute maps as one bytea of
 * 180 bytes per row in the same order (node-postgres sends a Buffer as binary; a bytea[] would
 * be hex text, 2× the bytes and most of the client's CPU per batch). A new device-day is
 * inserted as it is; an existing one gets the OR of the two minute maps, its online minutes
 * recounted from that OR, the counters added, first/last seen widened, and lastSeq from whichever
 * side was received later (the batch on ties, as one-at-a-time appends would store). The SET
 * expressions all read the row as it was, so they agree with each other. Concurrent writers of
 * one device-day (several nodes) serialize on the row lock and each adds its part; every batch
 * takes its row locks in one global order (sorted by device id, then day, and inserted in that
 * order), so two nodes' batches never wait on each other crosswise (a deadlock, measured with
 * four nodes before the sort).
 */
const UPSERT = `
  INSERT INTO telemetry_device_day AS d
    (device_id, day_number, minute_map, online_minutes, heartbeats, first_seen, last_seen, last_seq, skew_samples, skew_abs_sum_ms, coincident)
  SELECT device_id, day_number, minute_map, bit_count(minute_map), heartbeats, first_seen, last_seen, last_seq, skew_samples, skew_abs_sum_ms, coincident
    FROM (SELECT b.*, substring($3::bytea FROM ((b.i - 1) * ${MINUTE_MAP_BYTES} + 1)::integer FOR ${MINUTE_MAP_BYTES}) AS minute_map
            FROM unnest($1::text[], $2::integer[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[])
                 WITH ORDINALITY AS b(device_id, day_number, heartbeats, first_seen, last_seen, last_seq, skew_samples, skew_abs_sum_ms, coincident, i)) AS rows
   ORDER BY i
  ON CONFLICT (device_id, day_number) DO UPDATE SET
    minute_map      = telemetry_minute_map_or(d.minute_map, excluded.minute_map),
    online_minutes  = bit_count(telemetry_minute_map_or(d.minute_map, excluded.minute_map)),
    heartbeats      = d.heartbeats + excluded.heartbeats,
    first_seen      = least(d.first_seen, excluded.first_seen),
    last_seen       = greatest(d.last_seen, excluded.last_seen),
    last_seq        = CASE WHEN excluded.last_seen >= d.last_seen THEN excluded.last_seq ELSE d.last_seq END,
    skew_samples    = d.skew_samples + excluded.skew_samples,
    skew_abs_sum_ms = d.skew_abs_sum_ms + excluded.skew_abs_sum_ms,
    coincident      = d.coincident + excluded.coincident`;

/**
 * Activity of a chunk of devices as two values, for the same reason as the SQLite store's
 * query: converting a column per row is most of a read's cost in the client. The counters come
 * as one comma-separated list (the device's index in the sorted id list instead of its id;
 * first/last seen as offsets from the day's UTC-midnight number, 8 digits instead of 13) and the
 * minute maps of days from $1 on concatenated in the same order (string_agg skips NULLs).
 * The ids are joined through unnest so each device is one index range of its days.
 */
const SELECT_ACTIVITY = `
  SELECT string_agg(concat_ws(',', q.idx, d.day_number, d.online_minutes, d.heartbeats,
                              d.first_seen - d.day_number::bigint * ${DAY_MS}, d.last_seen - d.day_number::bigint * ${DAY_MS},
                              d.last_seq, d.skew_samples, d.skew_abs_sum_ms, d.coincident), ',' ORDER BY q.idx, d.day_number) AS counters,
         string_agg(CASE WHEN d.day_number >= $1 THEN d.minute_map END, ''::bytea ORDER BY q.idx, d.day_number) AS maps
    FROM unnest($4::text[]) WITH ORDINALITY AS q(device_id, idx)
    JOIN telemetry_device_day d ON d.device_id = q.device_id AND d.day_number BETWEEN $2 AND $3`;

/** Named: each pooled connection parses and plans a statement once, not per batch. */
interface Statement {
  name: string;
  text: string;
}
const UPSERT_STATEMENT: Statement = { name: 'telemetry-upsert-v1', text: UPSERT };

/**
 * The raw heartbeats of a batch and its day upsert in one statement (a data-modifying CTE):
 * both commit or neither, in one round trip, before any PUBACK.
 */
const RAW_AND_UPSERT_STATEMENT: Statement = {
  name: 'telemetry-raw-upsert-v1',
  text: `WITH raw AS (
    INSERT INTO telemetry_heartbeat (device_id, day_number, received_at, seq, device_ts, status, metrics, source, via, coincident)
    SELECT * FROM unnest($11::text[], $12::integer[], $13::bigint[], $14::bigint[], $15::bigint[], $16::text[], $17::text[], $18::text[], $19::text[], $20::boolean[]))
  ${UPSERT}`,
};

const PARTITION_PREFIX = 'telemetry_heartbeat_';
const SELECT_ACTIVITY_STATEMENT: Statement = { name: 'telemetry-activity-v1', text: SELECT_ACTIVITY };

/**
 * The TelemetryStore on PostgreSQL (GATEWAY_STORE=postgres): several gateway nodes can share it.
 * `append` resolves only once PostgreSQL has committed the batch's one upsert (autocommit,
 * synchronous_commit on), so the QoS 1 PUBACK waits on the commit. While PostgreSQL is
 * unreachable, appends are refused at once (no PUBACK: the devices resend), health() says
 * degraded with the reason, and a probe reconnects with back-off; nothing is buffered, so
 * nothing acknowledged can be lost with this process.
 */
export async function createPostgresTelemetryStore(options: PostgresTelemetryStoreOptions): Promise<PostgresTelemetryStore> {
  const log = (options.log ?? silentLogger).child({ component: 'telemetry-postgres' });
  const clock = options.clock ?? systemClock;
  const backoff = options.backoff ?? { initialMs: 100, maxMs: 5_000 };
  const timeoutMs = options.timeoutMs ?? 10_000;
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 8,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    types: numericTypes,
    application_name: 'subsidy-gateway telemetry',
  });
  /** When PostgreSQL became unreachable: `at` (injected clock) to show, `mono` to measure. */
  let failingSince: { at: number; mono: number } | null = null;
  let lastError = '';
  let probeTimer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  // An idle pooled connection whose server went away reports here; without a listener it would crash the process.
  pool.on('error', (err) => {
    log.warn({ err }, 'idle PostgreSQL connection failed');
    if (isUnreachable(err)) markUnreachable(err);
  });

  function markUnreachable(err: Error): void {
    lastError = err.message || (err as { code?: string }).code || 'connection failed';
    if (failingSince !== null) return;
    failingSince = { at: clock.now(), mono: monotonicMs() };
    log.error({ err }, 'PostgreSQL unreachable; refusing heartbeats until it answers');
    scheduleProbe(backoff.initialMs);
  }

  function scheduleProbe(delayMs: number): void {
    if (closed) return;
    probeTimer = setTimeout(() => {
      probeTimer = undefined;
      pool.query('SELECT 1').then(
        () => {
          log.info({ outageMs: failingSince === null ? 0 : Math.round(monotonicMs() - failingSince.mono) }, 'PostgreSQL reachable again');
          failingSince = null;
        },
        (err: Error) => {
          lastError = err.message || lastError;
          scheduleProbe(Math.min(backoff.maxMs, delayMs * 2));
        },
      );
    }, delayMs);
    probeTimer.unref?.();
  }

  function unavailable(): AppError {
    return new AppError(
      'GW_ERR_TELEMETRY_UNAVAILABLE',
      `PostgreSQL unreachable since ${new Date(failingSince!.at).toISOString()} (${lastError}); heartbeats are not acknowledged until it answers`,
    );
  }

  /** Runs a statement; a connection-level failure degrades the store and becomes GW_ERR_TELEMETRY_UNAVAILABLE. */
  async function run<R extends pg.QueryResultRow>(statement: Statement, values: unknown[]): Promise<pg.QueryResult<R>> {
    if (closed) throw new Error('telemetry store is closed');
    if (failingSince !== null) throw unavailable();
    try {
      return await pool.query<R>({ ...statement, values });
    } catch (err) {
      if (!isUnreachable(err)) throw err;
      markUnreachable(err as Error);
      throw unavailable();
    }
  }

  await migratePostgres(pool, 'postgres-telemetry', postgresTelemetryMigrations, clock).catch(async (err: unknown) => {
    await pool.end();
    throw err;
  });

  const rawRetentionDays = options.rawRetentionDays ?? 0;
  /** Day numbers whose raw partition exists (created here or found at start). */
  const partitions = new Set<number>();
  if (rawRetentionDays > 0) for (const day of await rawPartitionDays()) partitions.add(day);

  async function rawPartitionDays(): Promise<number[]> {
    const { rows } = await pool.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'telemetry_heartbeat'::regclass`,
    );
    return rows.map((r) => Number(r.name.slice(PARTITION_PREFIX.length))).filter(Number.isInteger);
  }

  /** One partition per Asia/Shanghai day; another node creating the same one at once is fine. */
  async function ensurePartitions(dayNumbers: Iterable<number>): Promise<void> {
    for (const day of dayNumbers) {
      if (partitions.has(day)) continue;
      try {
        await pool.query(`CREATE TABLE IF NOT EXISTS ${PARTITION_PREFIX}${day} PARTITION OF telemetry_heartbeat FOR VALUES FROM (${day}) TO (${day + 1})`);
      } catch (err) {
        const code = (err as { code?: string }).code;
        // Two nodes creating the same partition: the loser sees the winner's catalog row.
        if (code !== '42P07' && code !== '23505') throw err;
      }
      partitions.add(day);
    }
  }

  function rawColumns(batch: readonly Heartbeat[]): unknown[] {
    const n = batch.length;
    const cols = [[], [], [], [], [], [], [], [], [], []] as unknown[][];
    for (let i = 0; i < n; i++) {
      const h = batch[i]!;
      cols[0]![i] = h.deviceId;
      cols[1]![i] = shanghaiDayNumber(h.receivedAt);
      cols[2]![i] = h.receivedAt;
      cols[3]![i] = h.seq;
      cols[4]![i] = h.deviceTs ?? null;
      cols[5]![i] = h.status ?? null;
      cols[6]![i] = h.metrics === undefined ? null : JSON.stringify(h.metrics);
      cols[7]![i] = h.source;
      cols[8]![i] = h.via ?? null;
      cols[9]![i] = h.coincident;
    }
    return cols;
  }

  async function prune(nowMs: number): Promise<number> {
    if (rawRetentionDays <= 0) return 0;
    const oldestKept = shanghaiDayNumber(nowMs) - rawRetentionDays + 1;
    let dropped = 0;
    for (const day of await rawPartitionDays()) {
      if (day >= oldestKept) continue;
      await pool.query(`DROP TABLE IF EXISTS ${PARTITION_PREFIX}${day}`);
      partitions.delete(day);
      dropped++;
    }
    return dropped;
  }

  async function append(batch: readonly Heartbeat[]): Promise<void> {
    if (batch.length === 0) return;
    const accumulators = coalesce(batch).sort((a, b) =>
      a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : a.dayNumber - b.dayNumber,
    );
    const n = accumulators.length;
    const deviceIds = new Array<string>(n);
    const dayNumbers = new Array<number>(n);
    const maps = Buffer.allocUnsafe(n * MINUTE_MAP_BYTES);
    const heartbeats = new Array<number>(n);
    const firstSeen = new Array<number>(n);
    const lastSeen = new Array<number>(n);
    const lastSeq = new Array<number>(n);
    const skewSamples = new Array<number>(n);
    const skewAbsSum = new Array<number>(n);
    const coincident = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const a = accumulators[i]!;
      deviceIds[i] = a.deviceId;
      dayNumbers[i] = a.dayNumber;
      maps.set(a.minuteMap, i * MINUTE_MAP_BYTES);
      heartbeats[i] = a.heartbeats;
      firstSeen[i] = a.firstSeen;
      lastSeen[i] = a.lastSeen;
      lastSeq[i] = a.lastSeq;
      skewSamples[i] = a.skewSamples;
      skewAbsSum[i] = a.skewAbsSumMs;
      coincident[i] = a.coincident;
    }
    const dayColumns = [deviceIds, dayNumbers, maps, heartbeats, firstSeen, lastSeen, lastSeq, skewSamples, skewAbsSum, coincident];
    if (rawRetentionDays <= 0) {
      await run(UPSERT_STATEMENT, dayColumns);
      return;
    }
    if (failingSince !== null) throw unavailable();
    await ensurePartitions(new Set(dayNumbers)).catch((err: unknown) => {
      if (!isUnreachable(err)) throw err;
      markUnreachable(err as Error);
      throw unavailable();
    });
    await run(RAW_AND_UPSERT_STATEMENT, [...dayColumns, ...rawColumns(batch)]);
  }

  async function dailyActivity(deviceIds: readonly string[], fromDay: string, toDay: string, options: ActivityOptions = {}): Promise<DeviceDayActivity[]> {
    const { fromNumber, toNumber, mapsFromNumber } = activityDayRange(fromDay, toDay, options);
    const out: DeviceDayActivity[] = [];
    if (fromNumber > toNumber) return out;
    // Rows are ordered by deviceId in JS string order (not the database's collation), then day.
    const ids = [...new Set(deviceIds)].sort(compareStrings);
    const chunks: string[][] = [];
    for (let start = 0; start < ids.length; start += ACTIVITY_CHUNK) chunks.push(ids.slice(start, start + ACTIVITY_CHUNK));
    const answers = await Promise.all(
      chunks.map((chunk) => run<{ counters: string | null; maps: Buffer | null }>(SELECT_ACTIVITY_STATEMENT, [mapsFromNumber, fromNumber, toNumber, chunk])),
    );
    const dayStrings = new Map<number, string>();
    answers.forEach((answer, chunkIndex) => {
      const { counters, maps } = answer.rows[0]!;
      if (counters === null) return;
      const chunk = chunks[chunkIndex]!;
      const c = JSON.parse(`[${counters}]`) as number[];
      let mapOffset = 0;
      for (let at = 0; at < c.length; at += COUNTERS) {
        const dayNumber = c[at + 1]!;
        let day = dayStrings.get(dayNumber);
        if (day === undefined) dayStrings.set(dayNumber, (day = dayNumberToString(dayNumber)));
        const row: DeviceDayActivity = {
          deviceId: chunk[c[at]! - 1]!,
          day,
          onlineMinutes: c[at + 2]!,
          heartbeats: c[at + 3]!,
          firstSeen: dayNumber * DAY_MS + c[at + 4]!,
          lastSeen: dayNumber * DAY_MS + c[at + 5]!,
          lastSeq: c[at + 6]!,
          skewSamples: c[at + 7]!,
          skewAbsSumMs: c[at + 8]!,
          coincidentHeartbeats: c[at + 9]!,
        };
        if (dayNumber >= mapsFromNumber) {
          if (maps === null || maps.byteLength < mapOffset + MINUTE_MAP_BYTES) throw new Error('telemetry activity query returned fewer minute-map bytes than mapped rows');
          row.minuteMap = new Uint8Array(maps.buffer, maps.byteOffset + mapOffset, MINUTE_MAP_BYTES);
          mapOffset += MINUTE_MAP_BYTES;
        }
        out.push(row);
      }
      if ((maps?.byteLength ?? 0) !== mapOffset) throw new Error(`telemetry activity query returned ${maps?.byteLength ?? 0} map bytes for ${mapOffset / MINUTE_MAP_BYTES} mapped rows`);
    });
    return out;
  }

  return {
    kind: 'postgres',
    append,
    prune,
    dailyActivity,
    health(): StoreHealth {
      if (closed) return { status: 'degraded', detail: 'telemetry store closed' };
      if (failingSince !== null) {
        return {
          status: 'degraded',
          detail: `PostgreSQL unreachable since ${new Date(failingSince.at).toISOString()} (${lastError}); heartbeats are not acknowledged, devices resend them`,
        };
      }
      return { status: 'ok' };
    },
    async close() {
      if (closed) return;
      closed = true;
      if (probeTimer !== undefined) clearTimeout(probeTimer);
      await pool.end();
    },
  };
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
