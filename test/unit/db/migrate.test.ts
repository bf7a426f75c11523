import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, openDatabase, type SqliteDb } from '../../../src/db/sqlite.js';

/** Version numbers are reserved per branch, so migrations land out of numeric order. */
describe('migrate', () => {
  let dir: string;
  let db: SqliteDb;
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies an earlier version that lands after a later one, once', () => {
    dir = mkdtempSync(join(tmpdir(), 'gw-migrate-'));
    db = openDatabase(join(dir, 'm.sqlite'));
    const table = (name: string, version: number) => ({ version, description: name, up: `CREATE TABLE ${name} (x INTEGER)` });
    expect(migrate(db, 'c', [table('one', 1), table('six', 6)])).toBe(6);
    // The branch holding version 3 merges later: its table appears, nothing runs twice.
    expect(migrate(db, 'c', [table('one', 1), table('three', 3), table('six', 6)])).toBe(6);
    expect(migrate(db, 'c', [table('one', 1), table('three', 3), table('six', 6)])).toBe(6);
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('one', 'three', 'six') ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    expect(tables).toEqual(['one', 'six', 'three']);
    expect((db.prepare("SELECT version FROM schema_migrations WHERE component = 'c' ORDER BY version").all() as { version: number }[]).map((r) => r.version)).toEqual([1, 3, 6]);
  });
});
