import { sql } from 'kysely';
import { describe, expect, it, onTestFinished } from 'vitest';
import { isCheckViolation } from '../../../src/db/sql-errors.js';
import { createEvidenceStore, CONNECTION_KINDS } from '../../../src/telemetry/index.js';
import { ROLES } from '../../../src/registry/index.js';
import { VirtualClock } from '../../../src/clock.js';
import { openTestRegistry } from '../registry/fixtures.js';
import { SQL_DIALECTS, useSqlDb } from './sql-fixtures.js';

/** The SQL CHECKs are derived from the `as const` lists: every listed value is stored, nothing else is. */
describe.each(SQL_DIALECTS)('lists written once guard the database too (%s)', (dialect) => {
  const useDb = useSqlDb(dialect);
  it('evidence_connection accepts every connection kind and refuses any other', async () => {
    const { sql: db } = await useDb();
    await createEvidenceStore(db, new VirtualClock(0));
    const insert = (kind: string) => db.run(sql`INSERT INTO evidence_connection (device_id, at, kind, source) VALUES (${'dev-1'}, 0, ${kind}, ${'127.0.0.1'})`);
    for (const kind of CONNECTION_KINDS) expect(await insert(kind)).toBe(1);
    const refused = await insert('teleport').then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(isCheckViolation(refused)).toBe(true);
  });
});

describe('lists written once guard the database too', () => {
  it('api_keys accepts every role and refuses any other', async () => {
    const t = await openTestRegistry();
    onTestFinished(() => t.close());
    const db = t.db;
    const insert = db.prepare("INSERT INTO api_keys (id, key_sha256, role, supplier_id, created_at) VALUES (?, randomblob(32), ?, NULL, 0)");
    for (const role of ROLES.filter((r) => r !== 'supplier')) expect(() => insert.run(`key-${role}`, role)).not.toThrow();
    expect(() => insert.run('key-root', 'root')).toThrow(/CHECK constraint/);
  });
});
