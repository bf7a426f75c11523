/** The results table: printed to the terminal and written as JSON under bench/results/. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, freemem, totalmem } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './harness.js';

export interface ResultRow {
  benchmark: string;
  metric: string;
  unit: string;
  gateway: number | null;
  /** The reference measured in the same run (bare aedes), when the row has one. */
  reference?: number | null;
  /** gateway ÷ reference. */
  ratio?: number | null;
  target: string;
  /** null = not measured (see note). */
  met: boolean | null;
  note?: string;
}

export interface BenchResult {
  name: string;
  rows: ResultRow[];
  /** Per-round measurements and anything else worth keeping. */
  details: unknown;
  seconds: number;
}

export function machine() {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: +(totalmem() / 2 ** 30).toFixed(1),
    freeGiB: +(freemem() / 2 ** 30).toFixed(1),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

function fmt(value: number | null | undefined, unit = ''): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return value.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: 0 }) + (unit ? ` ${unit}` : '');
}

export function formatTable(rows: readonly ResultRow[]): string {
  const header = ['benchmark', 'metric', 'gateway', 'reference', 'ratio', 'target', 'met'];
  const lines = rows.map((r) => [
    r.benchmark,
    r.metric,
    fmt(r.gateway, r.unit),
    r.reference === undefined ? '' : fmt(r.reference, r.unit),
    r.ratio === undefined || r.ratio === null ? '' : `${r.ratio.toFixed(2)}×`,
    r.target,
    r.met === null ? 'n/a' : r.met ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const row = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [row(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(row)].join('\n');
}

export function writeResults(results: readonly BenchResult[], startedAt: Date): string {
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const name = results.length === 1 ? results[0]!.name : 'all';
  const document = {
    startedAt: startedAt.toISOString(),
    machine: machine(),
    rows: results.flatMap((r) => r.rows),
    benchmarks: results,
  };
  const file = join(dir, `${name}-${stamp}.json`);
  writeFileSync(file, JSON.stringify(document, null, 2) + '\n');
  writeFileSync(join(dir, 'latest.json'), JSON.stringify(document, null, 2) + '\n');
  return file;
}
