import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/** A table-driven case in the OpenFisca manner: what it exercises, input, expected output. */
export interface RuleCase<I = Record<string, unknown>, E = Record<string, unknown>> {
  name: string;
  clause: string;
  input: I;
  expected: E;
}

export function loadCases<I = Record<string, unknown>, E = Record<string, unknown>>(file: string): RuleCase<I, E>[] {
  const text = readFileSync(new URL(`./cases/${file}`, import.meta.url), 'utf8');
  const cases = parse(text) as RuleCase<I, E>[];
  for (const c of cases) {
    if (!c.name || !c.clause || c.input === undefined || c.expected === undefined) {
      throw new Error(`malformed case in ${file}: ${JSON.stringify(c).slice(0, 200)}`);
    }
  }
  return cases;
}

/** Deep merge of plain objects; arrays and scalars in `override` replace; null deletes. */
export function merge<T>(base: T, override: unknown): T {
  if (override === undefined) return structuredClone(base);
  if (!isPlain(base) || !isPlain(override)) return structuredClone(override) as T;
  const out: Record<string, unknown> = structuredClone(base) as Record<string, unknown>;
  for (const [key, value] of Object.entries(override)) {
    if (value === null) delete out[key];
    else out[key] = key in out ? merge(out[key], value) : structuredClone(value);
  }
  return out as T;
}

const isPlain = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    Object.freeze(value);
    for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child);
  }
  return value;
}
