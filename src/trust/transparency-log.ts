import { sql } from 'kysely';
import type { Clock } from '../clock.js';
import type { SqlDb } from '../db/sql-db.js';
import { AppError } from '../errors.js';
import { auditEntryBytes, leavesWithRows, type AuditRow, type LeafRowJoin } from './audit-entry.js';
import { JWS_TYPES, type Signer } from './signer.js';
import { createAuditTree, type AuditTree } from './tree-store.js';
import type { PublicJwk } from './keys.js';

/** Hashes travel as lowercase hex; entry bytes as base64 (they are UTF-8 JSON, but bytes are what is hashed). */
export interface TreeHead {
  treeSize: number;
  rootHash: string;
  /** When the head was signed, epoch milliseconds (RFC 9162 timestamps are ms). */
  timestamp: number;
}

export interface SignedTreeHead extends TreeHead {
  kid: string;
  /** Compact JWS over the canonical JSON of {treeSize, rootHash, timestamp}. */
  jws: string;
}

export interface InclusionProof {
  leafIndex: number;
  treeSize: number;
  auditPath: string[];
  /** base64 of the entry bytes (src/trust/audit-entry.ts); leafHash = SHA-256(0x00 ‖ entry). */
  entry: string;
  leafHash: string;
}

export interface ConsistencyProof {
  from: number;
  to: number;
  consistencyPath: string[];
}

export interface LogEntry {
  leafIndex: number;
  auditId: number;
  entry: string;
}

export interface TransparencyLog {
  tree: AuditTree;
  /** The head over the whole log now: the stored one if the log has not grown since, else a new signed one. */
  treeHead(): Promise<SignedTreeHead>;
  /** A stored signed head of that size, if the gateway ever issued one. */
  storedHead(treeSize: number): Promise<SignedTreeHead | undefined>;
  inclusion(leafIndex: number, treeSize: number): Promise<InclusionProof>;
  consistency(from: number, to: number): Promise<ConsistencyProof>;
  entries(fromIndex: number, limit: number): Promise<LogEntry[]>;
  /** The public keys: every key the gateway has signed with (retired ones stay), active first. */
  jwks(): Promise<{ keys: PublicJwk[] }>;
  /** A verification report as a compact JWS naming the current tree head in its protected header. */
  signReport(report: unknown): Promise<string>;
}

export interface TransparencyLogOptions {
  db: SqlDb;
  clock: Clock;
  signer: Signer;
}

interface HeadRow {
  tree_size: number;
  root_hash: Buffer;
  timestamp: number;
  kid: string;
  jws: string;
}

const fromHeadRow = (r: HeadRow): SignedTreeHead => ({
  treeSize: r.tree_size,
  rootHash: r.root_hash.toString('hex'),
  timestamp: r.timestamp,
  kid: r.kid,
  jws: r.jws,
});

function entryBytesOf(r: LeafRowJoin): Buffer {
  // The leaf exists but its row does not: the log was tampered with (the integrity check reports it).
  if (r.id === null) throw new AppError('GW_ERR_INTERNAL', `audit row ${r.audit_id} of a leaf is missing`);
  return auditEntryBytes(r as AuditRow);
}

// "timestamp" is quoted: a type name in PostgreSQL's grammar, a plain column here.
const headOfSize = (treeSize: number) =>
  sql<HeadRow>`SELECT tree_size, root_hash, "timestamp", kid, jws FROM audit_tree_heads WHERE tree_size = ${treeSize}`;

export function createTransparencyLog(options: TransparencyLogOptions): TransparencyLog {
  const { db, clock, signer } = options;
  const tree = createAuditTree(db);

  // Every key in the file is published before it signs anything, and stays published once seen,
  // even if an operator later drops it from the file: old signatures must stay verifiable (issue 18).
  const recordKeys = async () => {
    for (const key of signer.publicKeys()) {
      await db.run(sql`INSERT INTO signing_keys (kid, jwk, first_seen_at) VALUES (${key.kid}, ${JSON.stringify(key)}, ${clock.now()}) ON CONFLICT (kid) DO NOTHING`);
    }
  };

  const checkSize = async (treeSize: number, what: string) => {
    const size = await tree.size();
    if (treeSize > size) throw new AppError('GW_ERR_AUDIT_PROOF_RANGE', `${what} ${treeSize} is beyond the log's ${size} entries`);
  };

  // One transaction: two requests (or two nodes, under the PostgreSQL write lock) never sign two heads of one size.
  const treeHead = () =>
    db.transaction(async (): Promise<SignedTreeHead> => {
      const treeSize = await tree.size();
      const latest = await db.one(
        sql<HeadRow>`SELECT tree_size, root_hash, "timestamp", kid, jws FROM audit_tree_heads ORDER BY tree_size DESC LIMIT 1`,
      );
      if (latest && latest.tree_size === treeSize) return fromHeadRow(latest);
      const root = await tree.root(treeSize);
      const head: TreeHead = { treeSize, rootHash: root.toString('hex'), timestamp: clock.now() };
      await recordKeys();
      const jws = signer.signJson(head, JWS_TYPES.treeHead);
      await db.run(
        sql`INSERT INTO audit_tree_heads (tree_size, root_hash, "timestamp", kid, jws) VALUES (${treeSize}, ${root}, ${head.timestamp}, ${signer.activeKid()}, ${jws}) ON CONFLICT (tree_size) DO NOTHING`,
      );
      return fromHeadRow((await db.one(headOfSize(treeSize)))!);
    });

  return {
    tree,
    treeHead,
    async storedHead(treeSize) {
      const row = await db.one(headOfSize(treeSize));
      return row && fromHeadRow(row);
    },
    async inclusion(leafIndex, treeSize) {
      await checkSize(treeSize, 'treeSize');
      if (leafIndex >= treeSize) throw new AppError('GW_ERR_AUDIT_PROOF_RANGE', `index ${leafIndex} is not below treeSize ${treeSize}`);
      const [leaf] = await db.all(leavesWithRows(leafIndex, 1));
      if (leaf?.leaf_index !== leafIndex) throw new AppError('GW_ERR_INTERNAL', `leaf ${leafIndex} is missing from the tree`);
      return {
        leafIndex,
        treeSize,
        auditPath: (await tree.inclusion(leafIndex, treeSize)).map((h) => h.toString('hex')),
        entry: entryBytesOf(leaf).toString('base64'),
        leafHash: leaf.hash.toString('hex'),
      };
    },
    async consistency(from, to) {
      await checkSize(to, 'to');
      if (from < 1 || from > to) throw new AppError('GW_ERR_AUDIT_PROOF_RANGE', `no consistency proof from ${from} to ${to} (need 1 ≤ from ≤ to)`);
      return { from, to, consistencyPath: (await tree.consistency(from, to)).map((h) => h.toString('hex')) };
    },
    async entries(fromIndex, limit) {
      return (await db.all(leavesWithRows(fromIndex, limit))).map((r) => ({
        leafIndex: r.leaf_index,
        auditId: r.audit_id,
        entry: entryBytesOf(r).toString('base64'),
      }));
    },
    async jwks() {
      await recordKeys();
      const activeKid = signer.activeKid();
      const rows = await db.all(sql<{ jwk: string }>`SELECT jwk FROM signing_keys ORDER BY first_seen_at, kid`);
      const keys = rows.map((r) => JSON.parse(r.jwk) as PublicJwk);
      return { keys: [...keys.filter((k) => k.kid === activeKid), ...keys.filter((k) => k.kid !== activeKid)] };
    },
    async signReport(report) {
      const { treeSize, rootHash, timestamp } = await treeHead();
      // The head may be an old one: the key about to sign must be published all the same.
      await recordKeys();
      return signer.signJson(report, JWS_TYPES.report, { treeHead: { treeSize, rootHash, timestamp } });
    },
  };
}
