import { sql } from 'kysely';
import { sqlIn, type SqlDb } from '../db/sql-db.js';
import type { Migration } from '../db/sqlite.js';
import { chunks, compareKeys, createFlushGate } from './flush-gate.js';
import { DAY_MS, SHANGHAI_OFFSET_MS, isDayString, shanghaiDayNumber, shanghaiDayStart } from '../time/shanghai.js';

/**
 * Evidence of reporting through edge nodes (issue 20), per Asia/Shanghai day, in the registry's
 * database next to the other ingest evidence (component 'evidence', version 3, applied by
 * `createEvidenceStore`):
 *
 * - per device: how many accepted heartbeats came through which edge node (the report's
 *   "reported directly or through which edge node");
 * - per edge node: the counters the EDGE_FABRICATION signal reads (src/verifier/edge-signals.ts) —
 *   device messages, messages whose metrics copied a sibling's, device births and deaths that
 *   were the device's own rather than part of its edge node's (re)birth.
 *
 * Counters are kept in memory and stored by `flush` in one transaction, on the same cadence as
 * the rejection counters; a crash can lose the last second of them, never a heartbeat. Reads
 * and flushes are kept apart as in evidence.ts (flush-gate.ts).
 */
export const edgeEvidenceMigration: Migration = {
  version: 3,
  description: 'per-day counters of heartbeats reported through edge nodes and of edge node behaviour',
  up: `
    CREATE TABLE evidence_edge (
      subject      TEXT    NOT NULL,
      day_number   INTEGER NOT NULL,
      edge_node_id TEXT    NOT NULL,
      counter      TEXT    NOT NULL,
      count        INTEGER NOT NULL CHECK (count >= 0),
      PRIMARY KEY (subject, day_number, edge_node_id, counter)
    ) WITHOUT ROWID;
  `,
};

/** What an edge node did on a day, as the fabrication signal reads it. */
export const EDGE_COUNTERS = [
  /** Device messages (DBIRTH, DDATA, batch entries) accepted for the node's children. */
  'device-messages',
  /** Of those with metrics: how many carried exactly the metrics a sibling sent just before. */
  'with-metrics',
  'cloned-metrics',
  /** Device births and deaths, and of them the ones not part of a node birth or death. */
  'device-lifecycle',
  'own-lifecycle',
  /** NBIRTHs, and NDEATHs that ended the life their bdSeq named (usually the MQTT will). */
  'node-births',
  'node-deaths',
] as const;
export type EdgeCounter = (typeof EDGE_COUNTERS)[number];

/** The counter under which a device's heartbeats through an edge node are kept. */
const HEARTBEATS = 'heartbeats';

export interface EdgeEvidence {
  /** A heartbeat of `deviceId` accepted through `edgeNodeId` at `atMs`. */
  countReport(deviceId: string, edgeNodeId: string, atMs: number): void;
  countEdge(edgeNodeId: string, atMs: number, counter: EdgeCounter, by?: number): void;
  /** Adds the in-memory counters to the stored ones in one transaction; returns how many rows were written. */
  flush(): Promise<number>;
  pendingWrites(): number;
  /** Heartbeats per device per edge node over the days (stored plus pending). */
  reportsVia(deviceIds: readonly string[], fromDay: string, toDay: string): Promise<Map<string, Map<string, number>>>;
  /** Counters per edge node over the days (stored plus pending). */
  edgeCounters(edgeNodeIds: readonly string[], fromDay: string, toDay: string): Promise<Map<string, Record<EdgeCounter, number>>>;
}

interface Pending {
  subject: string;
  dayNumber: number;
  edgeNodeId: string;
  counter: string;
  count: number;
}

/** Needs the evidence migrations applied (`createEvidenceStore` on the same database). */
export function createEdgeEvidence(db: SqlDb): EdgeEvidence {
  const gate = createFlushGate();
  let pending = new Map<string, Pending>();
  // Commuting upserts in key order: no registry lock, no deadlock between nodes (evidence.ts).
  const write = (rows: readonly Pending[]): Promise<void> =>
    db.transaction(async () => {
      const ordered = [...rows].sort((a, b) => compareKeys([a.subject, a.dayNumber, a.edgeNodeId, a.counter], [b.subject, b.dayNumber, b.edgeNodeId, b.counter]));
      for (const part of chunks(ordered)) {
        await db.run(sql`INSERT INTO evidence_edge (subject, day_number, edge_node_id, counter, count) VALUES ${sql.join(
          part.map((r) => sql`(${r.subject}, ${r.dayNumber}, ${r.edgeNodeId}, ${r.counter}, ${r.count})`),
        )}
          ON CONFLICT (subject, day_number, edge_node_id, counter) DO UPDATE SET count = evidence_edge.count + excluded.count`);
      }
    }, { exclusive: false });

  function bump(subject: string, edgeNodeId: string, atMs: number, counter: string, by: number): void {
    const dayNumber = Math.floor((atMs + SHANGHAI_OFFSET_MS) / DAY_MS);
    const key = `${subject}\u0000${dayNumber}\u0000${edgeNodeId}\u0000${counter}`;
    const p = pending.get(key);
    if (p) p.count += by;
    else pending.set(key, { subject, dayNumber, edgeNodeId, counter, count: by });
  }

  async function rows(subjects: readonly string[], fromDay: string, toDay: string): Promise<Pending[]> {
    if (!isDayString(fromDay) || !isDayString(toDay)) throw new RangeError(`not YYYY-MM-DD days: ${fromDay}, ${toDay}`);
    const from = shanghaiDayNumber(shanghaiDayStart(fromDay));
    const to = shanghaiDayNumber(shanghaiDayStart(toDay));
    if (subjects.length === 0 || from > to) return [];
    const wanted = new Set(subjects);
    return gate.read(async () => {
      const stored = await db.all<{ subject: string; edge_node_id: string; counter: string; count: number }>(
        sql`SELECT subject, edge_node_id, counter, count FROM evidence_edge
          WHERE day_number BETWEEN ${from} AND ${to} AND subject IN ${sqlIn([...wanted])}`,
      );
      const out: Pending[] = stored.map((r) => ({ subject: r.subject, dayNumber: 0, edgeNodeId: r.edge_node_id, counter: r.counter, count: r.count }));
      for (const p of pending.values()) if (wanted.has(p.subject) && p.dayNumber >= from && p.dayNumber <= to) out.push({ ...p });
      return out;
    });
  }

  return {
    countReport: (deviceId, edgeNodeId, atMs) => bump(deviceId, edgeNodeId, atMs, HEARTBEATS, 1),
    countEdge: (edgeNodeId, atMs, counter, by = 1) => bump(edgeNodeId, edgeNodeId, atMs, counter, by),
    flush: () =>
      gate.flush(async () => {
        if (pending.size === 0) return 0;
        const toWrite = pending;
        pending = new Map();
        try {
          await write([...toWrite.values()]);
        } catch (err) {
          for (const [key, p] of toWrite) {
            const newer = pending.get(key);
            if (newer) newer.count += p.count;
            else pending.set(key, p);
          }
          throw err;
        }
        return toWrite.size;
      }),
    pendingWrites: () => pending.size,
    async reportsVia(deviceIds, fromDay, toDay) {
      const out = new Map<string, Map<string, number>>();
      for (const r of await rows(deviceIds, fromDay, toDay)) {
        if (r.counter !== HEARTBEATS) continue;
        let byNode = out.get(r.subject);
        if (!byNode) out.set(r.subject, (byNode = new Map()));
        byNode.set(r.edgeNodeId, (byNode.get(r.edgeNodeId) ?? 0) + r.count);
      }
      return out;
    },
    async edgeCounters(edgeNodeIds, fromDay, toDay) {
      const out = new Map<string, Record<EdgeCounter, number>>();
      for (const r of await rows(edgeNodeIds, fromDay, toDay)) {
        if (r.counter === HEARTBEATS || r.subject !== r.edgeNodeId) continue;
        let counters = out.get(r.subject);
        if (!counters) out.set(r.subject, (counters = Object.fromEntries(EDGE_COUNTERS.map((c) => [c, 0])) as Record<EdgeCounter, number>));
        if ((EDGE_COUNTERS as readonly string[]).includes(r.counter)) counters[r.counter as EdgeCounter] += r.count;
      }
      return out;
    },
  };
}
