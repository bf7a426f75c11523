import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const CLOCK_MODULE = 'src/clock.ts';
/** Ways to read the wall clock (or a monotonic one) directly. `new Date(x)` with an argument only converts. */
const CLOCK_READS = /\bDate\.now\s*\(|\bnew Date\s*\(\s*\)|\bperformance\.now\s*\(|\bprocess\.hrtime\b|(?<![\w.])Date\s*\(\s*\)/;

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(ts|js)$/.test(e.name))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

/** Lines matching `pattern` in the gateway, broker and simulators, outside the one module allowed to. */
function offenders(pattern: RegExp, allowed: string): Array<{ where: string; line: string }> {
  const files = ['src', 'broker', 'simulators'].flatMap(sourceFiles);
  expect(files).toContain(allowed);
  return files
    .filter((file) => file !== allowed)
    .flatMap((file) =>
      readFileSync(join(ROOT, file), 'utf8')
        .split('\n')
        .map((line, i) => ({ where: `${file}:${i + 1}`, line: line.trim() }))
        .filter(({ line }) => pattern.test(line)),
    );
}

describe('configuration is parsed once', () => {
  it('nothing in the gateway, broker or simulators reads process.env except src/config.ts', () => {
    expect(offenders(/\bprocess\.env\b/, 'src/config.ts')).toEqual([]);
  });
});

describe('time is injected', () => {
  it(`nothing in the gateway, broker or simulators reads a clock except ${CLOCK_MODULE}`, () => {
    expect(offenders(CLOCK_READS, CLOCK_MODULE)).toEqual([]);
  });

  it('the pattern catches every form it is meant to', () => {
    for (const read of ['Date.now()', 'new Date()', 'performance.now()', 'process.hrtime.bigint()', 'const d = Date();']) expect(read).toMatch(CLOCK_READS);
    for (const fine of ['new Date(ms)', 'new Date(0).toISOString()', 'Date.parse(s)', 'updatedAt()']) expect(fine).not.toMatch(CLOCK_READS);
  });
});
