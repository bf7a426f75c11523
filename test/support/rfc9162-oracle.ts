/**
 * RFC 9162 §2.1 written out as the RFC states it — straightforward recursion over the list of
 * entries, no stored nodes, no shared code with src/trust. Tests hold the gateway's roots and
 * proofs to this.
 */
import { createHash } from 'node:crypto';

const sha256 = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** k < n ≤ 2k, k a power of two. */
function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k << 1 < n) k <<= 1;
  return k;
}

/** MTH(D[n]) (§2.1.1). */
export function mth(entries: readonly Uint8Array[]): Buffer {
  const n = entries.length;
  if (n === 0) return sha256();
  if (n === 1) return sha256(Buffer.from([0]), entries[0]!);
  const k = largestPowerOfTwoBelow(n);
  return sha256(Buffer.from([1]), mth(entries.slice(0, k)), mth(entries.slice(k)));
}

/** PATH(m, D[n]) (§2.1.3.1). */
export function path(m: number, entries: readonly Uint8Array[]): Buffer[] {
  const n = entries.length;
  if (n === 1) return [];
  const k = largestPowerOfTwoBelow(n);
  return m < k
    ? [...path(m, entries.slice(0, k)), mth(entries.slice(k))]
    : [...path(m - k, entries.slice(k)), mth(entries.slice(0, k))];
}

/** PROOF(m, D[n]) = SUBPROOF(m, D[n], true) (§2.1.4.1). */
export function proof(m: number, entries: readonly Uint8Array[]): Buffer[] {
  return subproof(m, entries, true);
}

function subproof(m: number, entries: readonly Uint8Array[], b: boolean): Buffer[] {
  const n = entries.length;
  if (m === n) return b ? [] : [mth(entries)];
  const k = largestPowerOfTwoBelow(n);
  return m <= k
    ? [...subproof(m, entries.slice(0, k), b), mth(entries.slice(k))]
    : [...subproof(m - k, entries.slice(k), false), mth(entries.slice(0, k))];
}

/** The leaf hash of one entry: SHA-256(0x00 ‖ d). */
export function leaf(entry: Uint8Array): Buffer {
  return sha256(Buffer.from([0]), entry);
}
