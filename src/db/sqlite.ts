import Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

export type SqliteDb = Database.Database;

/**
 * Opens the gateway's one SQLite file (registry, audit log and per-device-day activity).
 * WAL lets readers (the verifier, the API) proceed while heartbeats are committed;
 * synchronous=FULL makes each commit durable before the QoS 1 PUBACK is released.
 */
export function openDatabase(file: string): SqliteDb {
  if (file !== ':memory:') ownerOnly(file);
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
  /** Runs after `up` in the same transaction, on SQLite only: data an older file already holds. */
  backfill?: (db: SqliteDb) => void;
}

/**
 * Versioned migrations per component, run at start-up inside one transaction each.
 * `component` namespaces the version counter so registry and telemetry evolve independently.
 * Every version not yet recorded runs, in version order — not only those above the highest
 * recorded: version numbers are reserved for branches in flight, so a database that already has
 * a later version (e.g. 6) still gets an earlier one (e.g. 3) when that branch lands.
 */
export function migrate(db: SqliteDb, component: string, migrations: readonly Migration[]): number {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    component TEXT NOT NULL, version INTEGER NOT NULL, description TEXT NOT NULL,
    PRIMARY KEY (component, version)) WITHOUT ROWID`);
  const applied = new Set(
    (db.prepare('SELECT version FROM schema_migrations WHERE component = ?').all(component) as { version: number }[]).map((r) => r.version),
  );
  const current = Math.max(0, ...applied);
  const pending = [...migrations].sort((a, b) => a.version - b.version).filter((m) => !applied.has(m.version));
  for (const m of pending) {
    db.transaction(() => {
      if (typeof m.up === 'string') db.exec(m.up);
      else m.up(db);
      m.backfill?.(db);
      db.prepare('INSERT INTO schema_migrations (component, version, description) VALUES (?, ?, ?)').run(
        component,
        m.version,
        m.description,
      );
    })();
  }
  return Math.max(current, ...pending.map((m) => m.version));
}

/**
 * The database holds key and token digests, the audit log and every device's activity: only the
 * gateway's own user may read it (issue 15 point 7). A data dir the gateway creates is 0700; the
 * file is created 0600 before SQLite opens it, and SQLite gives its -wal and -shm files the
 * main file's mode. Files of an older start are tightened to 0600 as well.
 */
function ownerOnly(file: string): void {
  const dir = dirname(file);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    if (!existsSync(f)) continue;
    try {
      chmodSync(f, 0o600);
    } catch (err) {
      // Another user's file the operator lets us write: their choice of mode, not ours to fail on.
      if ((err as { code?: string }).code !== 'EPERM') throw err;
    }
  }
}
