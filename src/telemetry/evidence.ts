import { sql } from 'kysely';
import type { Clock } from '../clock.js';
import { sqlIn, type SqlDb } from '../db/sql-db.js';
import { sqlList, type Migration } from '../db/sqlite.js';
import { connectionKindSchema, CONNECTION_KINDS, type ConnectionKind, type CountedReason, type RejectionReason } from './evidence-kinds.js';
import { edgeEvidenceMigration } from './edge-evidence.js';
import { chunks, compareKeys, createFlushGate } from './flush-gate.js';
import { DAY_MS, SHANGHAI_OFFSET_MS, isDayString, shanghaiDay, shanghaiDayNumber, shanghaiDayStart } from '../time/shanghai.js';

/**
 * Evidence the verifier shows next to activity (SPEC "fraud signals"): connection events
 * (sources, session take-overs) and per-device counts of rejected messages. In the registry's
 * database (SQLite file or PostgreSQL, through SqlDb) — even when heartbeats go to InfluxDB —
 * as component 'evidence'.
 */

export interface ConnectionEvent {
  deviceId: string;
  /** Gateway time, epoch ms. */
  at: number;
  kind: ConnectionKind;
  /** Remote address the connection came from. */
  source: string;
}

export interface ConnectionSummary {
  deviceId: string;
  connects: number;
  disconnects: number;
  /** Sessions of this device id taken over by a new connection ([MQTT-3.1.4-2]: the server disconnects the existing client). */
  takeovers: number;
  authFailures: number;
  /** Distinct sources of connects and take-overs, sorted. */
  distinctSources: string[];
  /** Distinct sources the take-overs came from, sorted. */
  takeoverSources: string[];
  lastConnectAt: number | null;
}

export interface RejectionCount {
  deviceId: string;
  /** `YYYY-MM-DD`, Asia/Shanghai. */
  day: string;
  reason: string;
  count: number;
}

/**
 * Clock-drift sums of a device (src/ingest/clock-drift.ts): heartbeats and segments of the
 * pooled within-segment fit, and its centred sums of x = receive time (ms), y = `ts` − receive
 * time (ms). They add across segments and days.
 */
export interface ClockSums {
  samples: number;
  segments: number;
  sxx: number;
  sxy: number;
  syy: number;
}

export interface ClockSegment extends ClockSums {
  deviceId: string;
  /** Days since 1970-01-01, Asia/Shanghai. */
  dayNumber: number;
}

export interface EvidenceStore {
  /**
   * Queues the event in memory; `flush` stores it with the rejection counters in one
   * transaction, and reads see it at once. A reconnect storm of 10,000 devices is then a few
   * transactions, not 10,000 fsync'd INSERTs (bench/ connect-storm: they were ~15 % of the
   * gateway's CPU). What a crash can lose is the last second of connection evidence, never a
   * heartbeat: heartbeats are committed before their PUBACK.
   */
  recordConnection(event: ConnectionEvent): void;
  /** Events with fromMs ≤ at ≤ toMs, ordered by deviceId, then time. */
  connections(deviceIds: readonly string[], fromMs: number, toMs: number): Promise<ConnectionEvent[]>;
  /** One summary per requested device (zeros when it has no events), ordered by deviceId. */
  connectionSummary(deviceIds: readonly string[], fromMs: number, toMs: number): Promise<ConnectionSummary[]>;
  /** Hot path: a counter increment in memory; persisted by `flush`. */
  countRejection(deviceId: string, atMs: number, reason: CountedReason): void;
  /**
   * Stores queued connection events and adds the in-memory counters to the stored ones, in one
   * transaction; returns how many were written. Flushes run one at a time; reads wait for the
   * one under way (flush-gate.ts). On failure everything stays queued.
   */
  flush(): Promise<number>;
  /** Stored plus not-yet-flushed counts for days fromDay..toDay inclusive, ordered by deviceId, day, reason. */
  rejections(deviceIds: readonly string[], fromDay: string, toDay: string): Promise<RejectionCount[]>;
  /** Hot path (per closed segment): adds clock-drift sums in memory; persisted by `flush`. */
  addClockSegments(segments: readonly ClockSegment[]): void;
  /** Stored plus not-yet-flushed clock-drift sums of days fromDay..toDay inclusive, per device and day (oldest first; devices without any omitted). */
  clockDays(deviceIds: readonly string[], fromDay: string, toDay: string): Promise<Map<string, ClockSums[]>>;
  /** Writes not yet flushed: queued connection events plus counters (distinct device/day/reason) plus clock rows. */
  pendingWrites(): number;
  /** Flushes the counters; the database itself belongs to the caller. */
  close(): Promise<void>;
}

export const evidenceMigrations: readonly Migration[] = [
  {
    version: 1,
    description: 'connection events and per-device-day rejection counters',
    up: `
      CREATE TABLE evidence_connection (
        id        INTEGER PRIMARY KEY,
        device_id TEXT    NOT NULL,
        at        INTEGER NOT NULL,
        kind      TEXT    NOT NULL CHECK (kind IN (${sqlList(CONNECTION_KINDS)})),
        source    TEXT    NOT NULL
      );
      CREATE INDEX evidence_connection_device_at ON evidence_connection (device_id, at);
      CREATE TABLE evidence_rejection (
        device_id  TEXT    NOT NULL,
        day_number INTEGER NOT NULL,
        reason     TEXT    NOT NULL,
        count      INTEGER NOT NULL,
        PRIMARY KEY (device_id, day_number, reason)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    description: 'per-device-day clock-drift sums (SHARED_CLOCK)',
    // ~60 B a device-day: five numbers next to the key.
    up: `
      CREATE TABLE evidence_clock (
        device_id  TEXT    NOT NULL,
        day_number INTEGER NOT NULL,
        samples    INTEGER NOT NULL CHECK (samples >= 0),
        segments   INTEGER NOT NULL CHECK (segments >= 0),
        sxx        REAL    NOT NULL,
        sxy        REAL    NOT NULL,
        syy        REAL    NOT NULL,
        PRIMARY KEY (device_id, day_number)
      ) WITHOUT ROWID;
    `,
  },
  edgeEvidenceMigration,
];

interface PendingRejection {
  deviceId: string;
  dayNumber: number;
  reason: string;
  count: number;
}

interface ConnectionRow {
  device_id: string;
  at: number;
  kind: ConnectionKind;
  source: string;
}
interface RejectionRow {
  device_id: string;
  day_number: number;
  reason: string;
  count: number;
}
interface ClockRow {
  device_id: string;
  day_number: number;
  samples: number;
  segments: number;
  sxx: number;
  sxy: number;
  syy: number;
}

/** Applies the evidence migrations (edge evidence's included), then answers the store. */
export async function createEvidenceStore(db: SqlDb, clock: Clock): Promise<EvidenceStore> {
  await db.migrate('evidence', evidenceMigrations, clock);
  const gate = createFlushGate();

  /** `${deviceId}\u0000${dayNumber}` → clock sums not yet stored. */
  let pendingClock = new Map<string, ClockSegment>();
  /** `${deviceId}\u0000${dayNumber}\u0000${reason}` → counter not yet stored. */
  let pending = new Map<string, PendingRejection>();
  /** Connection events not yet stored, in arrival order. */
  let pendingConnections: ConnectionEvent[] = [];

  /**
   * Multi-row statements, chunked; `table.count + excluded.count` is accepted by both SQLite and
   * PostgreSQL. The upserts commute, so they do not take the registry's write lock; each batch
   * takes its row locks in key order, so nodes flushing the same device-days never deadlock.
   */
  async function writePending(counters: readonly PendingRejection[], events: readonly ConnectionEvent[], clocks: readonly ClockSegment[]): Promise<void> {
    counters = [...counters].sort((a, b) => compareKeys([a.deviceId, a.dayNumber, a.reason], [b.deviceId, b.dayNumber, b.reason]));
    clocks = [...clocks].sort((a, b) => compareKeys([a.deviceId, a.dayNumber], [b.deviceId, b.dayNumber]));
    await db.transaction(async () => {
      for (const part of chunks(events)) {
        await db.run(sql`INSERT INTO evidence_connection (device_id, at, kind, source) VALUES ${sql.join(
          part.map((e) => sql`(${e.deviceId}, ${e.at}, ${e.kind}, ${e.source})`),
        )}`);
      }
      for (const part of chunks(counters)) {
        await db.run(sql`INSERT INTO evidence_rejection (device_id, day_number, reason, count) VALUES ${sql.join(
          part.map((c) => sql`(${c.deviceId}, ${c.dayNumber}, ${c.reason}, ${c.count})`),
        )}
          ON CONFLICT (device_id, day_number, reason) DO UPDATE SET count = evidence_rejection.count + excluded.count`);
      }
      for (const part of chunks(clocks)) {
        await db.run(sql`INSERT INTO evidence_clock (device_id, day_number, samples, segments, sxx, sxy, syy) VALUES ${sql.join(
          part.map((c) => sql`(${c.deviceId}, ${c.dayNumber}, ${c.samples}, ${c.segments}, ${c.sxx}, ${c.sxy}, ${c.syy})`),
        )}
          ON CONFLICT (device_id, day_number) DO UPDATE SET samples = evidence_clock.samples + excluded.samples,
            segments = evidence_clock.segments + excluded.segments, sxx = evidence_clock.sxx + excluded.sxx,
            sxy = evidence_clock.sxy + excluded.sxy, syy = evidence_clock.syy + excluded.syy`);
      }
    }, { exclusive: false });
  }

  function addClockSegment(into: Map<string, ClockSegment>, c: ClockSegment): void {
    const key = `${c.deviceId}\u0000${c.dayNumber}`;
    const sum = into.get(key);
    if (sum === undefined) into.set(key, { ...c });
    else addSums(sum, c);
  }

  function flush(): Promise<number> {
    return gate.flush(flushNow);
  }

  async function flushNow(): Promise<number> {
    if (pending.size === 0 && pendingConnections.length === 0 && pendingClock.size === 0) return 0;
    const toWrite = pending;
    const events = pendingConnections;
    const clocks = pendingClock;
    pending = new Map();
    pendingConnections = [];
    pendingClock = new Map();
    try {
      await writePending([...toWrite.values()], events, [...clocks.values()]);
    } catch (err) {
      // Rolled back: put everything back (ahead of what arrived meanwhile) so nothing is lost.
      pendingConnections = events.concat(pendingConnections);
      for (const [key, c] of toWrite) {
        const newer = pending.get(key);
        if (newer === undefined) pending.set(key, c);
        else newer.count += c.count;
      }
      for (const c of clocks.values()) addClockSegment(pendingClock, c);
      throw err;
    }
    return toWrite.size + events.length + clocks.size;
  }

  function dayNumberOf(day: string, name: string): number {
    if (!isDayString(day)) throw new RangeError(`${name} is not a YYYY-MM-DD day: ${day}`);
    return shanghaiDayNumber(shanghaiDayStart(day));
  }

  async function connections(deviceIds: readonly string[], fromMs: number, toMs: number): Promise<ConnectionEvent[]> {
    if (deviceIds.length === 0) return [];
    const wanted = new Set(deviceIds);
    return gate.read(async () => {
      const rows = await db.all<ConnectionRow>(sql`SELECT device_id, at, kind, source FROM evidence_connection
        WHERE at BETWEEN ${fromMs} AND ${toMs} AND device_id IN ${sqlIn([...wanted])}
        ORDER BY device_id, at, id`);
      const stored: ConnectionEvent[] = rows.map((row) => ({ deviceId: row.device_id, at: row.at, kind: row.kind, source: row.source }));
      const queued = pendingConnections.filter((e) => wanted.has(e.deviceId) && e.at >= fromMs && e.at <= toMs);
      // Stable sort: on equal times stored events (older ids) stay ahead of queued ones, as in the
      // table; sorted here even with nothing queued, since PostgreSQL orders text by its collation.
      return stored.concat(queued).sort((a, b) => compareStrings(a.deviceId, b.deviceId) || a.at - b.at);
    });
  }

  return {
    recordConnection(event) {
      if (!connectionKindSchema.safeParse(event.kind).success) throw new RangeError(`unknown connection event kind: ${String(event.kind)}`);
      if (!Number.isFinite(event.at)) throw new RangeError(`connection event of ${event.deviceId} has no finite time`);
      pendingConnections.push({ deviceId: event.deviceId, at: event.at, kind: event.kind, source: event.source });
    },

    connections,

    async connectionSummary(deviceIds, fromMs, toMs) {
      return summarizeConnections(deviceIds, await connections(deviceIds, fromMs, toMs));
    },

    countRejection(deviceId, atMs, reason) {
      const dayNumber = Math.floor((atMs + SHANGHAI_OFFSET_MS) / DAY_MS); // shanghaiDayNumber, inlined for the hot path
      const key = `${deviceId}\u0000${dayNumber}\u0000${reason}`;
      const counter = pending.get(key);
      if (counter === undefined) pending.set(key, { deviceId, dayNumber, reason, count: 1 });
      else counter.count++;
    },

    flush,

    async rejections(deviceIds, fromDay, toDay) {
      const fromNumber = dayNumberOf(fromDay, 'fromDay');
      const toNumber = dayNumberOf(toDay, 'toDay');
      if (deviceIds.length === 0 || fromNumber > toNumber) return [];
      const wanted = new Set(deviceIds);
      const totals = new Map<string, PendingRejection>();
      const add = (c: PendingRejection): void => {
        const key = `${c.deviceId}\u0000${c.dayNumber}\u0000${c.reason}`;
        const total = totals.get(key);
        if (total === undefined) totals.set(key, { ...c });
        else total.count += c.count;
      };
      await gate.read(async () => {
        const rows = await db.all<RejectionRow>(sql`SELECT device_id, day_number, reason, count FROM evidence_rejection
          WHERE day_number BETWEEN ${fromNumber} AND ${toNumber} AND device_id IN ${sqlIn([...wanted])}`);
        for (const row of rows) add({ deviceId: row.device_id, dayNumber: row.day_number, reason: row.reason, count: row.count });
        for (const c of pending.values()) {
          if (wanted.has(c.deviceId) && c.dayNumber >= fromNumber && c.dayNumber <= toNumber) add(c);
        }
      });
      return [...totals.values()]
        .sort(
          (a, b) => compareStrings(a.deviceId, b.deviceId) || a.dayNumber - b.dayNumber || compareStrings(a.reason, b.reason),
        )
        .map((c) => ({
          deviceId: c.deviceId,
          day: shanghaiDay(c.dayNumber * DAY_MS - SHANGHAI_OFFSET_MS),
          reason: c.reason,
          count: c.count,
        }));
    },

    addClockSegments(segments) {
      for (const c of segments) addClockSegment(pendingClock, c);
    },

    async clockDays(deviceIds, fromDay, toDay) {
      const fromNumber = dayNumberOf(fromDay, 'fromDay');
      const toNumber = dayNumberOf(toDay, 'toDay');
      const days = new Map<string, ClockSegment>();
      if (deviceIds.length > 0 && fromNumber <= toNumber) {
        const wanted = new Set(deviceIds);
        await gate.read(async () => {
          const rows = await db.all<ClockRow>(sql`SELECT device_id, day_number, samples, segments, sxx, sxy, syy FROM evidence_clock
            WHERE day_number BETWEEN ${fromNumber} AND ${toNumber} AND device_id IN ${sqlIn([...wanted])}`);
          for (const row of rows) {
            addClockSegment(days, { deviceId: row.device_id, dayNumber: row.day_number, samples: row.samples, segments: row.segments, sxx: row.sxx, sxy: row.sxy, syy: row.syy });
          }
          for (const c of pendingClock.values()) {
            if (wanted.has(c.deviceId) && c.dayNumber >= fromNumber && c.dayNumber <= toNumber) addClockSegment(days, c);
          }
        });
      }
      const result = new Map<string, ClockSums[]>();
      for (const d of [...days.values()].sort((a, b) => a.dayNumber - b.dayNumber)) {
        let list = result.get(d.deviceId);
        if (!list) result.set(d.deviceId, (list = []));
        list.push({ samples: d.samples, segments: d.segments, sxx: d.sxx, sxy: d.sxy, syy: d.syy });
      }
      return result;
    },

    pendingWrites() {
      return pending.size + pendingConnections.length + pendingClock.size;
    },

    async close() {
      await flush();
    },
  };
}

/**
 * One summary per device of `deviceIds` (zeros when it has no events), ordered by deviceId, from
 * events already read (`connections`): the verification reads a window's events once for both
 * the take-over counts and ONE_LIFE.
 */
export function summarizeConnections(deviceIds: readonly string[], events: readonly ConnectionEvent[]): ConnectionSummary[] {
  const ids = [...new Set(deviceIds)].sort(compareStrings);
  const wanted = new Set(ids);
  // Only devices with events get sets: most of a contract's devices have none in a window.
  const summaries = new Map<string, ConnectionSummary & { sources: Set<string>; takeoverSourceSet: Set<string> }>();
  for (const event of events) {
    if (!wanted.has(event.deviceId)) continue;
    let s = summaries.get(event.deviceId);
    if (s === undefined) {
      s = { ...emptySummary(event.deviceId), sources: new Set(), takeoverSourceSet: new Set() };
      summaries.set(event.deviceId, s);
    }
    switch (event.kind) {
      case 'connect':
        s.connects++;
        s.sources.add(event.source);
        if (s.lastConnectAt === null || event.at > s.lastConnectAt) s.lastConnectAt = event.at;
        break;
      case 'takeover':
        s.takeovers++;
        s.sources.add(event.source);
        s.takeoverSourceSet.add(event.source);
        break;
      case 'disconnect':
        s.disconnects++;
        break;
      case 'auth-failed':
        s.authFailures++;
        break;
    }
  }
  return ids.map((deviceId) => {
    const found = summaries.get(deviceId);
    if (found === undefined) return emptySummary(deviceId);
    const { sources, takeoverSourceSet, ...summary } = found;
    return {
      ...summary,
      distinctSources: [...sources].sort(compareStrings),
      takeoverSources: [...takeoverSourceSet].sort(compareStrings),
    };
  });
}

function emptySummary(deviceId: string): ConnectionSummary {
  return { deviceId, connects: 0, disconnects: 0, takeovers: 0, authFailures: 0, distinctSources: [], takeoverSources: [], lastConnectAt: null };
}

function addSums(into: ClockSums, c: ClockSums): void {
  into.samples += c.samples;
  into.segments += c.segments;
  into.sxx += c.sxx;
  into.sxy += c.sxy;
  into.syy += c.syy;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
