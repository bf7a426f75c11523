import { describe, expect, it } from 'vitest';
import { parseHeartbeat } from '../../../src/ingest/payload.js';
import { judgeHeartbeat } from '../../support/fuzz.js';

/**
 * Disagreements the MQTT fuzzer found between the v1 payload contract (API.md, as the oracle in
 * test/support/fuzz.ts reads it) and src/ingest/payload.ts, kept as regression tests.
 */
describe('heartbeat payload: gaps the fuzzer found', () => {
  // Found by `npm run soak` (seed 20201009, minute 8563): zod 4's z.record skips an own
  // "__proto__" key, so its value is never validated and the heartbeat is accepted with the
  // metric silently dropped. No prototype pollution happens (checked below); the gap is that a
  // bad input counts. Fixed in parseHeartbeat, which checks that key itself.
  it('rejects a metric named "__proto__" whose value is not a number', () => {
    const bytes = Buffer.from('{"seq":1,"metrics":{"__proto__":null}}');
    expect(judgeHeartbeat(bytes, { maxSeq: -1 })).toBe('invalid-payload');
    expect(parseHeartbeat(bytes)).toMatchObject({ ok: false, reason: 'invalid-payload' });
  });

  it('does not pollute Object.prototype whatever "__proto__" carries', () => {
    for (const doc of ['{"seq":1,"__proto__":{"polluted":1}}', '{"seq":1,"metrics":{"__proto__":{"polluted":1}}}']) parseHeartbeat(Buffer.from(doc));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
