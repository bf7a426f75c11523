import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/clock.js';
import type { SqlDb } from '../../../src/db/sql-db.js';
import { createEdgeEvidence } from '../../../src/telemetry/edge-evidence.js';
import { createEvidenceStore } from '../../../src/telemetry/evidence.js';
import { SQL_DIALECTS, useSqlDb } from './sql-fixtures.js';

const at = (iso: string): number => Date.parse(iso);
const clock = new VirtualClock('2020-10-09T00:00:00Z');

/** The evidence migrations (edge evidence's among them) applied, then the edge counters on the same database. */
async function openEdge(db: SqlDb) {
  await createEvidenceStore(db, clock);
  return createEdgeEvidence(db);
}

describe.each(SQL_DIALECTS)('edge evidence on %s', (dialect) => {
  const useDb = useSqlDb(dialect);

  it('answers stored plus pending counters per Asia/Shanghai day, and adds later flushes to the stored ones', async () => {
    const { sql: db, reopen } = await useDb();
    const edge = await openEdge(db);
    const t = at('2020-10-09T02:00:00Z');
    edge.countReport('dev-1', 'node-a', t);
    edge.countReport('dev-1', 'node-a', t + 1);
    edge.countReport('dev-2', 'node-b', t);
    edge.countEdge('node-a', t, 'device-messages', 2);
    edge.countEdge('node-a', t, 'cloned-metrics');
    edge.countEdge('node-a', at('2020-10-09T16:00:00Z'), 'node-births'); // 2020-10-10 00:00 +08:00
    expect(edge.pendingWrites()).toBe(5);
    expect(await edge.reportsVia(['dev-1', 'dev-2'], '2020-10-09', '2020-10-09')).toEqual(
      new Map([
        ['dev-1', new Map([['node-a', 2]])],
        ['dev-2', new Map([['node-b', 1]])],
      ]),
    );

    expect(await edge.flush()).toBe(5);
    expect(edge.pendingWrites()).toBe(0);
    edge.countReport('dev-1', 'node-a', t);
    edge.countEdge('node-a', t, 'device-messages');

    const counters = (await edge.edgeCounters(['node-a'], '2020-10-09', '2020-10-09')).get('node-a');
    expect(counters).toMatchObject({ 'device-messages': 3, 'cloned-metrics': 1, 'node-births': 0 });
    expect((await edge.edgeCounters(['node-a'], '2020-10-09', '2020-10-10')).get('node-a')).toMatchObject({ 'node-births': 1 });
    expect((await edge.reportsVia(['dev-1'], '2020-10-09', '2020-10-09')).get('dev-1')).toEqual(new Map([['node-a', 3]]));

    await edge.flush();
    const other = await openEdge(reopen());
    expect((await other.reportsVia(['dev-1'], '2020-10-09', '2020-10-09')).get('dev-1')).toEqual(new Map([['node-a', 3]]));
    expect(await db.all(sql`SELECT count FROM evidence_edge WHERE subject = ${'node-a'} AND counter = ${'device-messages'}`)).toEqual([{ count: 3 }]);
    expect(await other.reportsVia([], '2020-10-09', '2020-10-09')).toEqual(new Map());
    await expect(other.reportsVia(['dev-1'], '2020-10-9', '2020-10-09')).rejects.toThrow(RangeError);
  });

  it('keeps the counters in memory when a flush fails, so none are lost', async () => {
    const { sql: db, exec } = await useDb();
    const edge = await openEdge(db);
    const t = at('2020-10-09T02:00:00Z');
    edge.countReport('dev-1', 'node-a', t);
    await exec(db, 'ALTER TABLE evidence_edge RENAME TO evidence_edge_away');
    await expect(edge.flush()).rejects.toThrow();
    await exec(db, 'ALTER TABLE evidence_edge_away RENAME TO evidence_edge');
    edge.countReport('dev-1', 'node-a', t);
    expect(edge.pendingWrites()).toBe(1);
    expect(await edge.flush()).toBe(1);
    expect(await db.all(sql`SELECT subject, edge_node_id, count FROM evidence_edge`)).toEqual([{ subject: 'dev-1', edge_node_id: 'node-a', count: 2 }]);
  });

  it('stores more rows than one statement holds, and reads during the flush count each exactly once', async () => {
    const { sql: db } = await useDb();
    const edge = await openEdge(db);
    const t = at('2020-10-09T02:00:00Z');
    const devices = Array.from({ length: 1203 }, (_, i) => `dev-${i}`);
    for (const d of devices) edge.countReport(d, 'node-a', t);
    const expected = new Map(devices.map((d) => [d, new Map([['node-a', 1]])]));
    // Reads started before, with and after the flush (not awaited in between): none may miss or double a count.
    const before = edge.reportsVia(devices, '2020-10-09', '2020-10-09');
    const flushed = edge.flush();
    const during = edge.reportsVia(devices, '2020-10-09', '2020-10-09');
    const [b, written, d] = await Promise.all([before, flushed, during]);
    expect(written).toBe(devices.length);
    expect(b).toEqual(expected);
    expect(d).toEqual(expected);
    // Every row once, each counted once (count(*) rather than sum(): PostgreSQL's sum of bigint is numeric).
    expect(await db.one(sql`SELECT count(*) AS n FROM evidence_edge`)).toEqual({ n: devices.length });
    expect(await db.one(sql`SELECT count(*) AS n FROM evidence_edge WHERE count = 1`)).toEqual({ n: devices.length });
  });
});
