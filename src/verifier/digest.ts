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
    return `[${value.map(canonicalJson).join(',')}]`;
  }
  const record = value as Record<string, unknown>;
  let out = '';
  for (const key of Object.keys(record).sort(compareKeys)) {
    const v = record[key];
    if (v === undefined) continue;
    out += `${out ? ',' : ''}${JSON.stringify(key)}:${canonicalJson(v)}`;
  }
  return `{${out}}`;
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
