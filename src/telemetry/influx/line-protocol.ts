/**
 * The write body of both InfluxDB writers (1.x store, 2.x writer), serialised straight from
 * `Heartbeat`s and `DayRollup`s in the schema of points.ts and rollup.ts.
 *
 * Byte for byte the text the `influx` package's `writePoints` produced from the store's former
 * point objects and schemas (kept as the oracle in test/support/influx-points-oracle.ts): the
 * same tag order (device, contract, supplier; empty tags left out), fields in sorted key
 * order, integers as `String(Math.floor(v)) + "i"`, floats as `String(v)`, and the package's
 * own escaping (`escape.tag` for tag keys/values and field keys, `escape.quoted` for string
 * values — called only for strings that contain a character it would change). So InfluxDB
 * stores exactly what it stored before; test/unit/telemetry-influx/line-protocol.test.ts
 * holds the two to equality, escapes, collisions and odd inputs included.
 *
 * Why not through `writePoints`: per heartbeat it cost two intermediate point objects
 * (ours and the package's `IPoint`), a BigInt timestamp, the schema's coercion with a
 * closure and a `[key, value]` pair per field, and a regex escape per tag and field key —
 * about half of the store's CPU and much of its garbage (BENCHMARKS.md, ingest-influx).
 * Here a device's tag prefix is escaped once and reused, metric keys are escaped once per
 * name, and a heartbeat becomes one string concatenation. The HTTP request is still the
 * package's (its `Pool`, see influx-telemetry-store.ts).
 */
import { escape } from 'influx';
import type { Heartbeat } from '../types.js';
import { HEARTBEAT_MEASUREMENT, METRIC_FIELD_PREFIX, seqOffsetNs } from './points.js';
import { ACTIVITY_MEASUREMENT, type DayRollup } from './rollup.js';

const NS_PER_MS = 1_000_000;
/** Characters for which the package's tag escaper may change a string (`\` for its `\'` rule). */
const TAG_SPECIAL = /[,= \\]/;
/** Characters for which the package's quoting escapes something. */
const QUOTE_SPECIAL = /["\\]/;
/** Padding of the nanosecond offset to six digits, by its digit count. */
const PAD = ['', '00000', '0000', '000', '00', '0', ''];
/** Per-device entries (tag prefixes) kept before the cache starts over. */
const DEVICE_CACHE_MAX = 100_000;
/** Distinct strings kept per small cache (metric keys, quoted sources and statuses). */
const SMALL_CACHE_MAX = 10_000;
/** Heartbeats of one device in one batch after which its collision check switches to a set. */
const LINEAR_SCAN_MAX = 32;

/** The package's tag escaping (`escape.tag`), skipped for strings it would not change. */
export function escapeTag(value: string): string {
  return TAG_SPECIAL.test(value) ? escape.tag(value) : value;
}

/** The package's string field quoting (`escape.quoted`), skipped for strings it would not change. */
export function quoteField(value: string): string {
  return QUOTE_SPECIAL.test(value) ? escape.quoted(value) : `"${value}"`;
}

/** `ms × 10⁶ + offset` as a decimal string, as nsTimestamp() gives it, without BigInt. */
export function nsTimestampFast(ms: number, offsetNs: number): string {
  if (ms === 0) return String(offsetNs);
  const digits = offsetNs < 10 ? 1 : offsetNs < 100 ? 2 : offsetNs < 1_000 ? 3 : offsetNs < 10_000 ? 4 : offsetNs < 100_000 ? 5 : 6;
  return `${ms}${PAD[digits]!}${offsetNs}`;
}

interface HeartbeatTags {
  contractId: string;
  supplierId: string;
  /** `heartbeat,device=…,contract=…,supplier=…` */
  prefix: string;
}

/**
 * Serialises batches for one store. Holds small caches of escaped strings (tag prefixes per
 * device, metric field keys, quoted sources/statuses); each is bounded and simply starts over
 * when full.
 */
export class LineEncoder {
  readonly #devices = new Map<string, HeartbeatTags>();
  /** deviceId → `activity,device=…` */
  readonly #activity = new Map<string, string>();
  readonly #metricKeys = new Map<string, string>();
  readonly #quoted = new Map<string, string>();

  /**
   * Heartbeat lines, `\n`-separated, in batch order. Within the batch a heartbeat that would
   * share device, millisecond and nanosecond offset with an earlier one moves to the next
   * free nanosecond (points.ts).
   */
  heartbeats(batch: readonly Heartbeat[]): string {
    const lines: string[] = [];
    this.heartbeatLines(batch, lines);
    return lines.join('\n');
  }

  /** heartbeats(), one line per heartbeat pushed onto `lines` (joined once by the caller: no deep string ropes). */
  heartbeatLines(batch: readonly Heartbeat[], lines: string[]): void {
    const taken = new Map<string, number[] | Set<string>>();
    for (let i = 0; i < batch.length; i++) {
      const hb = batch[i]!;
      const ms = hb.receivedAt;
      let offset = seqOffsetNs(hb.seq);
      const seen = taken.get(hb.deviceId);
      if (seen === undefined) {
        taken.set(hb.deviceId, [ms, offset]);
      } else if (Array.isArray(seen)) {
        offset = freeOffsetIn(seen, ms, offset);
        if (seen.length < 2 * LINEAR_SCAN_MAX) seen.push(ms, offset);
        else {
          const set = new Set<string>();
          for (let j = 0; j < seen.length; j += 2) set.add(`${seen[j]!}|${seen[j + 1]!}`);
          set.add(`${ms}|${offset}`);
          taken.set(hb.deviceId, set);
        }
      } else {
        while (seen.has(`${ms}|${offset}`)) offset = (offset + 1) % NS_PER_MS;
        seen.add(`${ms}|${offset}`);
      }
      lines.push(this.#heartbeatLine(hb, nsTimestampFast(ms, offset)));
    }
  }

  /** One rollup point's line (measurement `activity`, tag device, the counters and the base64 minute map). */
  rollup(r: DayRollup): string {
    return (
      `${this.#activityPrefix(r.deviceId)} coincident=${Math.floor(r.coincident)}i` +
      `,firstSeen=${Math.floor(r.firstSeen)}i,heartbeats=${Math.floor(r.heartbeats)}i` +
      `,lastSeen=${Math.floor(r.lastSeen)}i,lastSeq=${Math.floor(r.lastSeq)}i` +
      // base64 holds no character that quoting escapes.
      `,minuteMap="${Buffer.from(r.minuteMap.buffer, r.minuteMap.byteOffset, r.minuteMap.byteLength).toString('base64')}"` +
      `,skewAbsSumMs=${Math.floor(r.skewAbsSumMs)}i,skewSamples=${Math.floor(r.skewSamples)}i ${r.timestampNs}`
    );
  }

  #heartbeatLine(hb: Heartbeat, timestampNs: string): string {
    let line = this.#heartbeatPrefix(hb);
    // Fields in sorted key order: coincident, m.*, seq, skewAbsMs, skewMs, source, status.
    line += hb.coincident ? ' coincident=1i' : ' coincident=0i';
    const metrics = hb.metrics;
    if (metrics !== undefined && metrics !== null) {
      const names = Object.keys(metrics);
      if (names.length > 1) names.sort();
      for (const name of names) {
        const value = metrics[name]!;
        if (Number.isFinite(value)) line += this.#metricKey(name) + String(value);
      }
    }
    line += `,seq=${Math.floor(hb.seq)}i`;
    if (typeof hb.deviceTs === 'number' && Number.isFinite(hb.deviceTs)) {
      const skewMs = Math.round(hb.deviceTs - hb.receivedAt);
      line += `,skewAbsMs=${Math.floor(Math.abs(skewMs))}i,skewMs=${Math.floor(skewMs)}i`;
    }
    if (hb.source) line += `,source=${this.#quote(hb.source)}`;
    // Any status but undefined or null is written (as the former points did).
    if (hb.status !== undefined && hb.status !== null) line += `,status=${this.#quote(String(hb.status))}`;
    return `${line} ${timestampNs}`;
  }

  #heartbeatPrefix(hb: Heartbeat): string {
    const tags = this.#devices.get(hb.deviceId);
    if (tags !== undefined && tags.contractId === hb.contractId && tags.supplierId === hb.supplierId) return tags.prefix;
    if (tags === undefined && this.#devices.size >= DEVICE_CACHE_MAX) this.#devices.clear();
    const prefix =
      HEARTBEAT_MEASUREMENT +
      deviceTag(hb.deviceId) +
      (hb.contractId !== '' ? `,contract=${escapeTag(hb.contractId)}` : '') +
      (hb.supplierId !== '' ? `,supplier=${escapeTag(hb.supplierId)}` : '');
    // A device that moved contract simply gets its entry replaced.
    this.#devices.set(hb.deviceId, { contractId: hb.contractId, supplierId: hb.supplierId, prefix });
    return prefix;
  }

  #activityPrefix(deviceId: string): string {
    return memo(this.#activity, DEVICE_CACHE_MAX, deviceId, activityPrefix);
  }

  #metricKey(name: string): string {
    return memo(this.#metricKeys, SMALL_CACHE_MAX, name, metricKey);
  }

  #quote(value: string): string {
    return memo(this.#quoted, SMALL_CACHE_MAX, value, quoteField);
  }
}

/** `make(key)`, remembered in `cache`, which simply starts over once it holds `max` entries. */
function memo(cache: Map<string, string>, max: number, key: string, make: (key: string) => string): string {
  let value = cache.get(key);
  if (value === undefined) {
    if (cache.size >= max) cache.clear();
    value = make(key);
    cache.set(key, value);
  }
  return value;
}

function activityPrefix(deviceId: string): string {
  return ACTIVITY_MEASUREMENT + deviceTag(deviceId);
}

/** `,m.<name>=` with the key escaped. */
function metricKey(name: string): string {
  return `,${escapeTag(METRIC_FIELD_PREFIX + name)}=`;
}

/** `,device=<escaped id>`, or nothing for an empty id (the package left empty tags out). */
function deviceTag(deviceId: string): string {
  return deviceId !== '' ? `,device=${escapeTag(deviceId)}` : '';
}

/** Next offset not yet taken by (ms, offset) pairs of the same device. */
function freeOffsetIn(pairs: readonly number[], ms: number, offset: number): number {
  for (let j = 0; j < pairs.length; j += 2) {
    if (pairs[j] === ms && pairs[j + 1] === offset) {
      offset = (offset + 1) % NS_PER_MS;
      j = -2; // rescan with the new offset
    }
  }
  return offset;
}
