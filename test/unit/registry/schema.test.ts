import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/clock.js';
import { openSqlDb } from '../../../src/db/sql-db.js';
import { openDatabase } from '../../../src/db/sqlite.js';
import { silentLogger } from '../../../src/log.js';
import { createRegistry, registryMigrations } from '../../../src/registry/index.js';
import { openTestRegistry, seedSupplierContract, stubEngine, type TestRegistry } from './fixtures.js';

let t: TestRegistry;
beforeEach(async () => {
  t = await openTestRegistry({ engine: stubEngine });
});
afterEach(() => t.close());

describe('registry storage', () => {
  it('runs its migrations once, in WAL mode, and keeps data across a restart', async () => {
    const { contractId } = await seedSupplierContract(t.registry);
    const [device] = await t.registry.devices.register(contractId, [{ serial: 'PERSIST' }], 'test');
    expect(t.db.pragma('journal_mode', { simple: true })).toBe('wal');
    await t.close({ keepFiles: true });

    const file = join(t.dir, 'gateway.sqlite');
    const sql = openSqlDb({ kind: 'sqlite', file });
    const reopened = await createRegistry({ sql, clock: new VirtualClock(0), log: silentLogger, engine: stubEngine });
    const db = openDatabase(file);
    const versions = db.prepare("SELECT version FROM schema_migrations WHERE component = 'registry'").all();
    expect(versions).toHaveLength(registryMigrations.length);
    expect(await reopened.devices.verifyToken(device!.id, device!.token)).toBe('ok');
    expect((await reopened.contracts.get(contractId))?.id).toBe(contractId);
    db.close();
    await sql.close();
  });

  it('refuses a duplicate serial within a supplier even if a caller bypasses the check', async () => {
    const { contractId, supplierId } = await seedSupplierContract(t.registry);
    await t.registry.devices.register(contractId, [{ serial: 'RAW' }], 'test');
    expect(() =>
      t.db
        .prepare('INSERT INTO devices (id, serial, contract_id, supplier_id, token_sha256, created_at) VALUES (?, ?, ?, ?, ?, 0)')
        .run('d00000000000000ff', 'RAW', contractId, supplierId, Buffer.alloc(32)),
    ).toThrow(/UNIQUE/);
  });
});
