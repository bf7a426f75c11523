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
  // per process, and no sort where the keys already come in order (bench/ verify: 6.5 → 2.7 ms).
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

function sortedKeys(record: Record<string, unknown>): string[] {
  const keys = Object.keys(record);
  for (let i = 1; i < keys.length; i++) if (!(keys[i - 1]! < keys[i]!)) return keys.sort(compareKeys);
  return keys;
}

/** `"key":` per key seen; bounded, since payload keys other than the report's are not a closed set. */
const QUOTED_KEYS_MAX = 1000;
const quotedKeys = new Map<string, string>();

function quotedKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = `${JSON.stringify(key)}:`;
    if (quotedKeys.size < QUOTED_KEYS_MAX) quotedKeys.set(key, quoted);
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
