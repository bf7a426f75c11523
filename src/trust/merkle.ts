import { createHash, hash as digest } from 'node:crypto';

/**
 * RFC 9162 §2.1 Merkle tree algorithms, over a tree whose complete ("perfect") subtrees are
 * looked up rather than recomputed. A perfect subtree is named by (level, index): it covers
 * leaves [index·2^level, (index+1)·2^level); level 0 are the leaf hashes. Every range the RFC's
 * recursion visits starts on a boundary of its left part (the split is at the largest power of
 * two below the size), so MTH of any such range is at most one perfect lookup per level:
 * proofs and roots cost O(log n) lookups, never a scan.
 */
export type Hash = Buffer;

/** Looks up the stored hash of a perfect subtree (level, index); it must exist. */
export type PerfectNode = (level: number, index: number) => Hash;

const LEAF_PREFIX = Buffer.from([0x00]);
/** 0x01 ‖ left ‖ right, reused: the one-shot hash of a 65-byte buffer is the cheapest form in Node. */
const nodeInput = Buffer.alloc(65, 0x01);

/** RFC 9162 §2.1.1: MTH({d(0)}) = SHA-256(0x00 || d(0)). */
export function leafHash(entry: Uint8Array): Hash {
  return digest('sha256', Buffer.concat([LEAF_PREFIX, entry]), 'buffer');
}

/** RFC 9162 §2.1.1: SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])). */
export function nodeHash(left: Hash, right: Hash): Hash {
  left.copy(nodeInput, 1);
  right.copy(nodeInput, 33);
  return digest('sha256', nodeInput, 'buffer');
}

/** RFC 9162 §2.1.1: MTH of the empty tree is the hash of the empty string. */
export const EMPTY_ROOT: Hash = createHash('sha256').digest();

/** k: the largest power of two smaller than n (n ≥ 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

/** log2 of a power of two. */
function levelOf(size: number): number {
  return 31 - Math.clz32(size);
}

/** MTH(D[start:start+size]) for a range the RFC's recursion produces (start aligned to its left part). */
export function rangeHash(perfect: PerfectNode, start: number, size: number): Hash {
  if (size === 0) return EMPTY_ROOT;
  if (isPowerOfTwo(size)) {
    const level = levelOf(size);
    return perfect(level, start / size);
  }
  const k = splitPoint(size);
  return nodeHash(rangeHash(perfect, start, k), rangeHash(perfect, start + k, size - k));
}

/** MTH(D[0:n]): the root of the tree of the first n leaves. */
export function rootHash(perfect: PerfectNode, treeSize: number): Hash {
  return rangeHash(perfect, 0, treeSize);
}

/** RFC 9162 §2.1.3.1 PATH(m, D[n]): sibling hashes from the leaf up to the root. */
export function inclusionPath(perfect: PerfectNode, leafIndex: number, treeSize: number): Hash[] {
  if (!(leafIndex >= 0 && leafIndex < treeSize)) throw new RangeError(`leaf ${leafIndex} is not in a tree of ${treeSize}`);
  const path: Hash[] = [];
  const walk = (m: number, start: number, size: number): void => {
    if (size <= 1) return;
    const k = splitPoint(size);
    if (m < k) {
      walk(m, start, k);
      path.push(rangeHash(perfect, start + k, size - k));
    } else {
      walk(m - k, start + k, size - k);
      path.push(rangeHash(perfect, start, k));
    }
  };
  walk(leafIndex, 0, treeSize);
  return path;
}

/** RFC 9162 §2.1.4.1 PROOF(m, D[n]) = SUBPROOF(m, D[n], true), for 0 < m ≤ n. */
export function consistencyPath(perfect: PerfectNode, from: number, to: number): Hash[] {
  if (!(from >= 1 && from <= to)) throw new RangeError(`no consistency proof from ${from} to ${to}`);
  const proof: Hash[] = [];
  const sub = (m: number, start: number, size: number, whole: boolean): void => {
    if (m === size) {
      if (!whole) proof.push(rangeHash(perfect, start, size));
      return;
    }
    const k = splitPoint(size);
    if (m <= k) {
      sub(m, start, k, whole);
      proof.push(rangeHash(perfect, start + k, size - k));
    } else {
      sub(m - k, start + k, size - k, false);
      proof.push(rangeHash(perfect, start, k));
    }
  };
  sub(from, 0, to, true);
  return proof;
}

function isSha256(h: Hash): boolean {
  return h.length === 32;
}

/** RFC 9162 §2.1.3.2: does `auditPath` prove `leaf` at `leafIndex` in the tree of `treeSize` with `root`? */
export function verifyInclusion(leaf: Hash, leafIndex: number, treeSize: number, auditPath: readonly Hash[], root: Hash): boolean {
  if (!(leafIndex >= 0 && leafIndex < treeSize)) return false;
  if (![leaf, root, ...auditPath].every(isSha256)) return false;
  let fn = leafIndex;
  let sn = treeSize - 1;
  let r = leaf;
  for (const p of auditPath) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

/** RFC 9162 §2.1.4.2: does `proof` show the tree (`first`, `firstRoot`) is a prefix of (`second`, `secondRoot`)? */
export function verifyConsistency(
  first: number,
  second: number,
  proof: readonly Hash[],
  firstRoot: Hash,
  secondRoot: Hash,
): boolean {
  if (!(first >= 1 && first <= second)) return false;
  if (![firstRoot, secondRoot, ...proof].every(isSha256)) return false;
  if (first === second) return proof.length === 0 && firstRoot.equals(secondRoot);
  if (proof.length === 0) return false;
  // Step 2: a power-of-two first tree is itself the first node of the proof.
  const path = isPowerOfTwo(first) ? [firstRoot, ...proof] : [...proof];
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return fr.equals(firstRoot) && sr.equals(secondRoot) && sn === 0;
}

/**
 * The perfect subtrees completed by appending leaf `index`: (level, index) pairs from level 1
 * up, each the parent of two stored children. Appending is amortised O(1), at most log2 n.
 */
export function completedByAppend(index: number): Array<{ level: number; index: number }> {
  const out: Array<{ level: number; index: number }> = [];
  let i = index;
  let level = 0;
  while (i % 2 === 1) {
    i = (i - 1) / 2;
    level++;
    out.push({ level, index: i });
  }
  return out;
}
