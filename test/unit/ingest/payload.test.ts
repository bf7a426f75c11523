import { describe, expect, it } from 'vitest';
import { MAX_PAYLOAD_BYTES, parseHeartbeat, validateWithSchema } from '../../../src/ingest/payload.js';

const bytes = (s: string) => Buffer.from(s, 'utf8');

describe('parseHeartbeat', () => {
  it('accepts the API.md example and converts an ISO ts to epoch ms', () => {
    const r = parseHeartbeat(bytes('{"seq":17,"ts":"2020-10-09T08:00:00+08:00","status":"running","metrics":{"spindleRpm":1200}}'));
    expect(r).toEqual({
      ok: true,
      payload: { seq: 17, ts: '2020-10-09T08:00:00+08:00', status: 'running', metrics: { spindleRpm: 1200 } },
      deviceTs: Date.UTC(2020, 9, 9, 0, 0, 0),
    });
  });

  it('accepts epoch-ms ts and a payload with only seq', () => {
    expect(parseHeartbeat(bytes('{"seq":0,"ts":1602201600000}'))).toMatchObject({ ok: true, deviceTs: 1602201600000 });
    expect(parseHeartbeat(bytes('{"seq":1}'))).toMatchObject({ ok: true, deviceTs: undefined });
  });

  it.each([
    ['not JSON', 'seq=1', 'invalid-json', /JSON|Unexpected/],
    ['a negative seq', '{"seq":-1}', 'invalid-payload', /^seq:/],
    ['a fractional seq', '{"seq":1.5}', 'invalid-payload', /^seq:/],
    ['a missing seq', '{"status":"running"}', 'invalid-payload', /^seq:/],
    ['a string seq', '{"seq":"1"}', 'invalid-payload', /^seq:/],
    ['an unknown status', '{"seq":1,"status":"busy"}', 'invalid-payload', /^status:/],
    ['a ts without offset', '{"seq":1,"ts":"2020-10-09T08:00:00"}', 'invalid-payload', /^ts:/],
    ['a non-numeric metric', '{"seq":1,"metrics":{"rpm":"fast"}}', 'invalid-payload', /^metrics\.rpm:/],
    ['a JSON array', '[1,2]', 'invalid-payload', /\(payload\)/],
    ['JSON null', 'null', 'invalid-payload', /\(payload\)/],
  ])('rejects %s with a precise reason', (_name, text, reason, detail) => {
    const r = parseHeartbeat(bytes(text));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toBe(reason);
      expect(r.detail).toMatch(detail);
    }
  });

  it('rejects a NaN metric, which JSON cannot carry but a sloppy encoder writes as NaN', () => {
    expect(parseHeartbeat(bytes('{"seq":1,"metrics":{"power":NaN}}'))).toMatchObject({ ok: false, reason: 'invalid-json' });
  });

  it('rejects payloads over 4 KiB before parsing them', () => {
    const big = bytes(JSON.stringify({ seq: 1, pad: 'x'.repeat(MAX_PAYLOAD_BYTES) }));
    expect(parseHeartbeat(big)).toMatchObject({ ok: false, reason: 'payload-too-large' });
  });
});

describe('parseHeartbeat fast path', () => {
  // The hand-written shortcut must agree with zod (the schema of record) on every input:
  // same verdict, same payload, same deviceTs, same reason and detail.
  const cases: unknown[] = [
    { seq: 0 },
    { seq: 17, ts: 1602201600000, status: 'running', metrics: { spindleRpm: 1200, t: -3.5 } },
    { seq: 1, ts: '2020-10-09T08:00:00+08:00' },
    { seq: Number.MAX_SAFE_INTEGER },
    { seq: Number.MAX_SAFE_INTEGER + 2 },
    { seq: 1, ts: 8_640_000_000_000_000 },
    { seq: 1, ts: 8_640_000_000_000_001 },
    { seq: 1, ts: -1 },
    { seq: 1, ts: 1.5 },
    { seq: 1, ts: null },
    { seq: 1, status: null },
    { seq: 1, status: 'off', extra: { deep: [1, 2] } },
    { seq: 1, metrics: {} },
    { seq: 1, metrics: [] },
    { seq: 1, metrics: null },
    { seq: 1, metrics: { '': 1 } },
    { seq: 1, metrics: { ['m'.repeat(64)]: 1 } },
    { seq: 1, metrics: { ['m'.repeat(65)]: 1 } },
    { seq: 1, metrics: Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`m${i}`, i])) },
    { seq: 1, metrics: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`m${i}`, i])) },
    { seq: 1, metrics: { a: '1' } },
    { seq: 1, metrics: { a: true } },
    { seq: '1' },
    { seq: 1.5 },
    [],
    'text',
    42,
  ];
  it.each([...new Set(cases.map((c) => JSON.stringify(c)))])('agrees with zod on %s', (text) => {
    expect(parseHeartbeat(bytes(text))).toEqual(validateWithSchema(JSON.parse(text)));
  });

  it('agrees with zod on a __proto__ metric, valid or not', () => {
    for (const text of ['{"seq":1,"metrics":{"__proto__":5}}', '{"seq":1,"metrics":{"__proto__":"x"}}', '{"seq":1,"__proto__":{"seq":2}}']) {
      expect(parseHeartbeat(bytes(text))).toEqual(validateWithSchema(JSON.parse(text)));
    }
  });
});
