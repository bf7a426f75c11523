import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type SqliteDb = Database.Database;

/**
 * Opens the gateway's one SQLite file (registry, audit log and per-device-day activity).
 * WAL lets readers (the verifier, the API) proceed while heartbeats are committed;
 * synchronous=FULL makes each commit durable before the QoS 1 PUBACK is released.
 */
export function openDatabase(file: string): SqliteDb {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  return db;
}

/** `'a', 'b'` for `CHECK (col IN (…))`, so a CHECK is derived from the `as const` list it guards. */
export function sqlList(values: readonly string[]): string {
  return values.map((v) => `'${v.replaceAll("'", "''")}'`).join(', ');
}

export interface Migration {
  version: number;
  description: string;
  up: string | ((db: SqliteDb) => void);
}

/**
 * Versioned migrations per component, run at start-up inside one transaction each.
 * `component` namespaces the version counter so registry and telemetry evolve independently.
 */
export function migrate(db: SqliteDb, component: string, migrations: readonly Migration[]): number {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    component TEXT NOT NULL, version INTEGER NOT NULL, description TEXT NOT NULL,
    PRIMARY KEY (component, version)) WITHOUT ROWID`);
  const current =
    (db.prepare('SELECT max(version) AS v FROM schema_migrations WHERE component = ?').get(component) as
      | { v: number | null }
      | undefined)?.v ?? 0;
  const pending = [...migrations].sort((a, b) => a.version - b.version).filter((m) => m.version > current);
  for (const m of pending) {
    db.transaction(() => {
      if (typeof m.up === 'string') db.exec(m.up);
      else m.up(db);
      db.prepare('INSERT INTO schema_migrations (component, version, description) VALUES (?, ?, ?)').run(
        component,
        m.version,
        m.description,
      );
    })();
  }
  return pending.length === 0 ? current : pending[pending.length - 1]!.version;
}
