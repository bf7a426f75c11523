import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toCsv } from '../../../src/api/csv.js';
import { FUZZ_SEED, formulaCellArb } from '../../support/fuzz.js';

/** The first cell of a one-cell CSV body, unquoted as a spreadsheet would read it. */
function readBack(value: unknown): string {
  const line = toCsv(['h'], [[value]]).split('\r\n')[1]!;
  return line.startsWith('"') ? line.slice(1, -1).replaceAll('""', '"') : line;
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

describe('CSV cells (issue 15 point 1, OWASP CSV injection)', () => {
  it.each([
    [`-2+3+cmd|' /C calc'!A0`],
    ['-0x1+HYPERLINK("http://e")'],
    ['+1+cmd'],
    ['=1+1'],
    ['@SUM(A1)'],
    ['\t=1'],
    ['\r=1'],
    ['-1e3 +cmd'],
  ])('neutralises %j, which starts like a formula', (serial) => {
    expect(readBack(serial)).toBe(`'${serial}`);
  });

  it.each([['-5'], ['+3.5'], ['-1e3'], ['0'], ['.5'], [-7], [12.25]])('leaves the number %j alone', (value) => {
    expect(readBack(value)).toBe(String(value));
  });

  it('for any string with a formula prefix: a number stays, anything else gains a leading quote', () => {
    fc.assert(
      fc.property(fc.oneof(formulaCellArb, fc.double({ noNaN: true }).map(String)), (cell) => {
        expect(readBack(cell)).toBe(!/^[=+\-@\t\r]/.test(cell) || NUMBER.test(cell) ? cell : `'${cell}`);
      }),
      { seed: FUZZ_SEED, numRuns: 5_000 },
    );
  });
});
