import type { Duplex } from 'node:stream';

/**
 * A stream-level guard in front of aedes' packet parser. mqtt-packet buffers a whole packet
 * before parsing it, so a fixed header declaring a 256 MB remaining length would make the
 * broker hold everything the peer sends until 256 MB arrived. The guard follows packet
 * boundaries in the raw byte stream (fixed header byte, remaining-length varint
 * [MQTT-2.2.3], then that many bytes) and destroys the connection as soon as a header
 * declares more than `maxPacketBytes`, or the varint is malformed (a fifth length byte).
 * Heartbeats are ≤ 4 KiB of payload; CONNECT packets are smaller still.
 */
export type GuardViolation = 'oversized-packet' | 'malformed-length';

export interface PacketScanner {
  /** Follows the packets in a chunk; returns the first violation, if any. */
  feed(chunk: Uint8Array): { violation: GuardViolation; declared?: number } | undefined;
  /** Changes the limit for packets whose header is still to come (an authenticated edge node's larger batches). */
  setLimit(maxPacketBytes: number): void;
}

// Where the scanner is within the current packet.
const HEADER = 0;
const LENGTH = 1;
const BODY = 2;

export function createPacketScanner(initialLimit: number): PacketScanner {
  let maxPacketBytes = initialLimit;
  let state: number = HEADER;
  let length = 0;
  let multiplier = 1;
  let lengthBytes = 0;
  let remaining = 0;
  let failed: { violation: GuardViolation; declared?: number } | undefined;

  return {
    feed(chunk) {
      if (failed) return failed;
      let i = 0;
      const n = chunk.length;
      while (i < n) {
        if (state === BODY) {
          const take = Math.min(remaining, n - i);
          remaining -= take;
          i += take;
          if (remaining === 0) state = HEADER;
          continue;
        }
        if (state === HEADER) {
          i++; // packet type and flags: aedes validates them
          state = LENGTH;
          length = 0;
          multiplier = 1;
          lengthBytes = 0;
          continue;
        }
        const byte = chunk[i++]!;
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        lengthBytes++;
        if (byte & 0x80) {
          // [MQTT-2.2.3] at most four length bytes
          if (lengthBytes >= 4) return (failed = { violation: 'malformed-length' });
          // Fail early: the declared length can only grow from here.
          if (length > maxPacketBytes) return (failed = { violation: 'oversized-packet', declared: length });
          continue;
        }
        if (length > maxPacketBytes) return (failed = { violation: 'oversized-packet', declared: length });
        remaining = length;
        state = remaining === 0 ? HEADER : BODY;
      }
      return undefined;
    },
    setLimit(limit) {
      maxPacketBytes = limit;
    },
  };
}

/**
 * Watches a connection that aedes is already reading. A `data` listener added after
 * `aedes.handle` sees every chunk aedes' `conn.read()` returns without switching the stream to
 * flowing mode (aedes' `readable` listener keeps it paused). On a violation the socket is
 * destroyed before the parser can accumulate more than the chunk in hand.
 */
export function guardConnection(
  conn: Duplex,
  maxPacketBytes: number,
  onViolation: (v: GuardViolation, declared?: number) => void,
): Pick<PacketScanner, 'setLimit'> {
  const scanner = createPacketScanner(maxPacketBytes);
  const listener = (chunk: Buffer) => {
    const failed = scanner.feed(chunk);
    if (!failed) return;
    conn.off('data', listener);
    onViolation(failed.violation, failed.declared);
    conn.destroy();
  };
  conn.on('data', listener);
  return { setLimit: scanner.setLimit };
}
