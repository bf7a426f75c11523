import fc from 'fast-check';
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { createPacketScanner } from '../../../broker/packet-guard.js';
import { encodeLength } from '../../support/fuzz.js';

const gen = (p: object) => mqttPacket.generate(p as mqttPacket.Packet);

/** Splits a buffer into chunks at the given cut points. */
function chunks(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    out.push(buf.subarray(from, p));
    from = p;
  }
  out.push(buf.subarray(from));
  return out;
}

const packetArb = fc.oneof(
  fc.record({ topic: fc.string({ maxLength: 100 }), payload: fc.uint8Array({ maxLength: 8000 }), qos: fc.constantFrom(0, 1), messageId: fc.integer({ min: 1, max: 65535 }) }).map((p) =>
    gen({ cmd: 'publish', retain: false, dup: false, ...p, payload: Buffer.from(p.payload) }),
  ),
  fc.constant(gen({ cmd: 'pingreq' })),
  fc.integer({ min: 1, max: 65535 }).map((messageId) => gen({ cmd: 'puback', messageId })),
  fc.record({ clientId: fc.string({ maxLength: 64 }), username: fc.string({ maxLength: 64 }), password: fc.string({ maxLength: 64 }) }).map((c) =>
    gen({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 60, clientId: c.clientId, username: c.username, password: Buffer.from(c.password) }),
  ),
);

describe('packet guard', () => {
  it('passes any stream of well-formed packets within the limit, however it is chunked (property)', () => {
    fc.assert(
      fc.property(fc.array(packetArb, { minLength: 1, maxLength: 20 }), fc.array(fc.nat(), { maxLength: 30 }), (packets, cuts) => {
        const scanner = createPacketScanner(8192 + 200);
        for (const chunk of chunks(Buffer.concat(packets), cuts)) expect(scanner.feed(chunk)).toBeUndefined();
      }),
      { seed: 42, numRuns: 300 },
    );
  });

  it('stops at the first header declaring more than the limit, even split byte by byte (property)', () => {
    fc.assert(
      fc.property(fc.array(packetArb, { maxLength: 5 }), fc.integer({ min: 8193, max: 268_435_455 }), fc.array(fc.nat(), { maxLength: 30 }), (before, declared, cuts) => {
        const scanner = createPacketScanner(8192);
        const small = before.filter((p) => p.length <= 8192);
        const header = Buffer.concat([Buffer.from([0x30]), encodeLength(declared)]);
        const stream = Buffer.concat([...small, header, Buffer.alloc(100)]);
        const results = chunks(stream, cuts).map((c) => scanner.feed(c)).filter(Boolean);
        expect(results[0]).toMatchObject({ violation: 'oversized-packet' });
      }),
      { seed: 43, numRuns: 300 },
    );
  });

  it('flags a fifth remaining-length byte as malformed [MQTT-2.2.3]', () => {
    const scanner = createPacketScanner(1 << 30);
    expect(scanner.feed(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]))).toEqual({ violation: 'malformed-length' });
  });

  it('flags a 256 MB declared length as soon as its last length byte arrives', () => {
    const scanner = createPacketScanner(8192);
    expect(scanner.feed(Buffer.from([0x30, 0x80, 0x80, 0x80]))).toBeUndefined();
    expect(scanner.feed(Buffer.from([0x01]))).toMatchObject({ violation: 'oversized-packet' });
  });
});
