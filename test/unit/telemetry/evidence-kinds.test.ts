import { describe, expect, it } from 'vitest';
import { createEvidenceStore, CONNECTION_KINDS } from '../../../src/telemetry/index.js';
import { createRegistry, ROLES } from '../../../src/registry/index.js';
import { VirtualClock } from '../../../src/clock.js';
import { openSqlDb } from '../../../src/db/sql-db.js';
import { silentLogger } from '../../../src/log.js';
import { useTempDatabase } from './fixtures.js';

/** The SQL CHECKs are derived from the `as const` lists: every listed value is stored, nothing else is. */
describe('lists written once guard the database too', () => {
  it('evidence_connection accepts every connection kind and refuses any other', () => {
    const { db } = useTempDatabase();
    createEvidenceStore(db);
    const insert = db.prepare('INSERT INTO evidence_connection (device_id, at, kind, source) VALUES (?, 0, ?, ?)');
    for (const kind of CONNECTION_KINDS) expect(() => insert.run('dev-1', kind, '127.0.0.1')).not.toThrow();
    expect(() => insert.run('dev-1', 'teleport', '127.0.0.1')).toThrow(/CHECK constraint/);
  });

  it('api_keys accepts every role and refuses any other', async () => {
    const { db } = useTempDatabase();
    const sql = openSqlDb({ kind: 'sqlite', file: db.name });
    await createRegistry({ sql, clock: new VirtualClock(0), log: silentLogger });
    await sql.close();
    const insert = db.prepare("INSERT INTO api_keys (id, key_sha256, role, supplier_id, created_at) VALUES (?, randomblob(32), ?, NULL, 0)");
    for (const role of ROLES.filter((r) => r !== 'supplier')) expect(() => insert.run(`key-${role}`, role)).not.toThrow();
    expect(() => insert.run('key-root', 'root')).toThrow(/CHECK constraint/);
  });
});
