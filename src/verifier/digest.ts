import { createHash } from 'node:crypto';

/**
 * Canonical serialisation: JSON with object keys sorted at every level, no whitespace.
 * Arrays keep their order (the report sorts devices by id before digesting).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
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
