import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../src/verifier/digest.js';

/** The definition, written the plain way: the fast paths in digest.ts must give the same bytes. */
function referenceCanonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(referenceCanonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${referenceCanonicalJson(v)}`).join(',')}}`;
}

describe('canonicalJson', () => {
  it('sorts keys at every level, drops undefined members and keeps array order', () => {
    expect(canonicalJson({ b: [3, 1, { z: 1, a: undefined, m: 'x' }], a: null, c: undefined })).toBe('{"a":null,"b":[3,1,{"m":"x","z":1}]}');
    expect(canonicalJson([1, undefined, Number.NaN, 'é'])).toBe('[1,null,null,"é"]');
  });

  it('sorts each object by its own keys when objects share a first key but not the rest', () => {
    const rows = [{ z: 1, b: 2, a: 3 }, { z: 1, c: 2 }, { z: 1, b: 2, a: 3 }, { z: 1, a: 2, b: 3 }, { z: 1, b: 2, a: 3, y: undefined }];
    expect(canonicalJson(rows)).toBe('[{"a":3,"b":2,"z":1},{"c":2,"z":1},{"a":3,"b":2,"z":1},{"a":2,"b":3,"z":1},{"a":3,"b":2,"z":1}]');
  });

  it('writes exactly what the plain element-by-element definition writes, for any JSON-like value', () => {
    const value = fc.anything({ withNullPrototype: true, withObjectString: false, withBigInt: false, withMap: false, withSet: false, withDate: false, withTypedArray: false, withSparseArray: true });
    fc.assert(
      fc.property(value, (v) => {
        expect(canonicalJson(v)).toBe(referenceCanonicalJson(v));
      }),
      { numRuns: 2000, seed: 20201009 },
    );
  });
});
