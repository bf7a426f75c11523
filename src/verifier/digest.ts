import { createHash } from 'node:crypto';

/**
 * Canonical serialisation: JSON with object keys sorted at every level, no whitespace.
 * Arrays keep their order (the report sorts devices by id before digesting).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    // An array of primitives (a device's dailyMinutes, a list of sources) has no keys to sort:
    // JSON.stringify writes it exactly as the element-wise path would, in one native call.
    if (isDensePrimitiveArray(value)) return JSON.stringify(value);
    let out = '[';
    // A hole writes nothing, as map/join does.
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + (i in value ? canonicalJson(value[i]) : '');
    return `${out}]`;
  }
  // A 1,000-device report is ~400 kB of ~3,000 objects: one growing string, keys quoted once
  // per process, each shape's key order sorted once (bench/ verify: 6.5 → 2.1 ms).
  const record = value as Record<string, unknown>;
  let out = '{';
  let first = true;
  for (const key of sortedKeys(record)) {
    const v = record[key];
    if (v === undefined) continue;
    const quoted = quotedKey(key);
    out += (first ? quoted : `,${quoted}`) + canonicalJson(v);
    first = false;
  }
  return `${out}}`;
}

/**
 * Key order → sorted order, by first key: a report repeats a few shapes (devices, signals) a
 * thousand times each. Bounded in entries and in keys per entry, so that signing arbitrary
 * payloads cannot grow it without limit.
 */
const SHAPES_MAX = 1000;
const SHAPE_KEYS_MAX = 64;
const shapes = new Map<string, { keys: string[]; sorted: string[] }>();

function sortedKeys(record: Record<string, unknown>): string[] {
  const keys = Object.keys(record);
  if (keys.length < 2) return keys;
  const known = shapes.get(keys[0]!);
  if (known !== undefined && sameKeys(known.keys, keys)) return known.sorted;
  let sorted = keys;
  for (let i = 1; i < keys.length; i++) {
    if (!(keys[i - 1]! < keys[i]!)) {
      sorted = keys.slice().sort(compareKeys);
      break;
    }
  }
  if (keys.length <= SHAPE_KEYS_MAX && (known !== undefined || shapes.size < SHAPES_MAX)) shapes.set(keys[0]!, { keys, sorted });
  return sorted;
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** `"key":` per key seen; bounded (count and length), since payload keys other than the report's are not a closed set. */
const QUOTED_KEYS_MAX = 1000;
const QUOTED_KEY_LENGTH_MAX = 64;
const quotedKeys = new Map<string, string>();

function quotedKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = `${JSON.stringify(key)}:`;
    if (quotedKeys.size < QUOTED_KEYS_MAX && key.length <= QUOTED_KEY_LENGTH_MAX) quotedKeys.set(key, quoted);
  }
  return quoted;
}

function isDensePrimitiveArray(values: unknown[]): boolean {
  for (let i = 0; i < values.length; i++) {
    if (!(i in values)) return false; // a hole: map/join writes nothing where JSON.stringify writes null
    const v = values[i];
    if (v !== null && (typeof v === 'object' || typeof v === 'function' || v === undefined || typeof v === 'bigint')) return false;
  }
  return true;
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `sha256:<hex>` over the canonical JSON of a report without its `digest` field. */
export function reportDigest<T extends { digest?: string }>(report: T): string {
  const { digest: _ignored, ...rest } = report;
  return `sha256:${createHash('sha256').update(canonicalJson(rest)).digest('hex')}`;
}

/** True when an archived report still matches its digest. */
export function verifyDigest<T extends { digest?: string }>(report: T): boolean {
  return report.digest === reportDigest(report);
}
