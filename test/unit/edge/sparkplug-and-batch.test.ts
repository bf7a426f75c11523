import { describe, expect, it } from 'vitest';
import { parseBatch } from '../../../src/edge/batch.js';
import { createCloneTracker } from '../../../src/edge/clone-tracker.js';
import { bdSeqOf, decodeSparkplug, encodeSparkplug, parseSparkplugTopic, toHeartbeatPayload } from '../../../src/edge/sparkplug.js';

describe('Sparkplug B topics', () => {
  it.each([
    ['spBv1.0/plant/NBIRTH/edg_aaaaaaaaaaaa', { kind: 'node', group: 'plant', type: 'NBIRTH', edgeNodeId: 'edg_aaaaaaaaaaaa' }],
    ['spBv1.0/plant/DDATA/edg_aaaaaaaaaaaa/d0123456789abcdef', { kind: 'device', type: 'DDATA', deviceId: 'd0123456789abcdef' }],
  ])('reads %s', (topic, expected) => {
    expect(parseSparkplugTopic(topic)).toMatchObject(expected);
  });

  it.each([
    ['v1/devices/d1/heartbeat', 'not a Sparkplug B topic'],
    ['spBv1.0/plant/NBIRTH/edg_aaaaaaaaaaaa/d1', 'NBIRTH carries no device id'],
    ['spBv1.0/plant/DDATA/edg_aaaaaaaaaaaa', 'DDATA needs a device id'],
    ['spBv1.0/plant/NCMD/edg_aaaaaaaaaaaa', 'message type NCMD is not published by an edge node'],
    ['spBv1.0/plant/DDATA/edg_aaaaaaaaaaaa/d1/extra', 'malformed Sparkplug topic'],
    ['spBv1.0//NBIRTH/edg_aaaaaaaaaaaa', 'malformed Sparkplug topic'],
  ])('refuses %s: %s', (topic, error) => {
    expect(parseSparkplugTopic(topic)).toEqual({ error });
  });
});

describe('Sparkplug B payloads', () => {
  it('turns numeric and boolean metrics into heartbeat metrics, a status string into the status, aliases into names', () => {
    const bytes = encodeSparkplug({
      timestamp: 1_600_000_000_000,
      seq: 4,
      metrics: [
        { name: 'temperature', type: 'Double', value: 21.5 },
        { name: 'running', type: 'Boolean', value: true },
        { name: 'status', type: 'String', value: 'idle' },
        { alias: 7, type: 'Int32', value: 1200 },
        { name: 'Device Control/Rebirth', type: 'Boolean', value: false },
        { name: 'label', type: 'String', value: 'not a reading' },
      ],
    });
    const decoded = decodeSparkplug(bytes, 4096);
    if (!decoded.ok) throw new Error(decoded.detail);
    expect(decoded.value.seq).toBe(4);
    const parsed = toHeartbeatPayload(decoded.value, 9, new Map([[7, 'spindle']]));
    expect(parsed).toEqual({
      ok: true,
      payload: { seq: 9, ts: 1_600_000_000_000, status: 'idle', metrics: { temperature: 21.5, running: 1, spindle: 1200 } },
      deviceTs: 1_600_000_000_000,
    });
  });

  it('reads bdSeq as a number from its UInt64 metric', () => {
    const decoded = decodeSparkplug(encodeSparkplug({ metrics: [{ name: 'bdSeq', type: 'UInt64', value: 255 }] }), 4096);
    expect(decoded.ok && bdSeqOf(decoded.value.metrics)).toBe(255);
  });

  it('rejects a poisoned payload with a reason instead of throwing', () => {
    expect(decodeSparkplug(Buffer.from('{"seq": 1}'), 4096)).toMatchObject({ ok: false, reason: 'invalid-sparkplug' });
    expect(decodeSparkplug(Buffer.alloc(5000), 4096)).toMatchObject({ ok: false, reason: 'payload-too-large' });
    expect(decodeSparkplug(encodeSparkplug({ seq: 300, metrics: [] }), 4096)).toMatchObject({ ok: false, detail: 'seq 300 outside 0..255' });
  });

  it('holds a device message to the heartbeat limits (at most 64 metrics)', () => {
    const metrics = Array.from({ length: 65 }, (_, i) => ({ name: `m${i}`, type: 'Double' as const, value: i + 0.5 }));
    const decoded = decodeSparkplug(encodeSparkplug({ seq: 1, metrics }), 8192);
    if (!decoded.ok) throw new Error(decoded.detail);
    expect(toHeartbeatPayload(decoded.value, 1, new Map())).toMatchObject({ ok: false, reason: 'invalid-payload' });
  });
});

describe('JSON batch', () => {
  it('parses each entry on its own: a bad entry costs only itself', () => {
    const batch = parseBatch(
      Buffer.from(JSON.stringify([{ device: 'd1', seq: 1 }, { device: 'd2', seq: 'x' }, { seq: 3 }, 7, { device: 'd3', seq: 2, metrics: { big: 1, name: 'y'.repeat(4100) } }])),
    );
    if (!batch.ok) throw new Error(batch.detail);
    expect(batch.entries).toEqual([
      { device: 'd1', result: { ok: true, payload: { seq: 1 }, deviceTs: undefined } },
      { device: 'd2', result: { ok: false, reason: 'invalid-payload', detail: expect.stringContaining('seq') } },
      { device: undefined, reason: 'invalid-payload', detail: '[2].device: expected a device id' },
      { device: undefined, reason: 'invalid-payload', detail: '[3]: expected an object' },
      { device: 'd3', result: { ok: false, reason: 'payload-too-large', detail: expect.stringContaining('> 4096') } },
    ]);
  });

  it('rejects a message that is not a JSON array, or larger than 256 KiB', () => {
    expect(parseBatch(Buffer.from('{"device":"d1","seq":1}'))).toMatchObject({ ok: false, reason: 'invalid-payload' });
    expect(parseBatch(Buffer.from('[{'))).toMatchObject({ ok: false, reason: 'invalid-json' });
    expect(parseBatch(Buffer.alloc(256 * 1024 + 1, 0x20))).toMatchObject({ ok: false, reason: 'payload-too-large' });
  });
});

describe('clone tracker', () => {
  it("flags readings that repeat a sibling's exactly, not a device's own repeat, not an uninformative one", () => {
    const clones = createCloneTracker();
    expect(clones.observe('a', { temperature: 21.25, spindle: 1200 }, 0)).toBe('own');
    expect(clones.observe('b', { temperature: 21.25, spindle: 1200 }, 1000)).toBe('cloned');
    expect(clones.observe('b', { temperature: 21.25, spindle: 1200 }, 2000)).toBe('own');
    expect(clones.observe('c', { running: 1 }, 3000)).toBe('uninformative');
    expect(clones.observe('d', { running: 1 }, 3000)).toBe('uninformative');
    // Long after: two machines may legitimately meet the same values again.
    expect(clones.observe('c', { temperature: 21.25, spindle: 1200 }, 10 * 60_000)).toBe('own');
  });
});
