import { accessSync, constants as fsConstants } from 'node:fs';
import { join } from 'node:path';
import { openDatabase, type SqliteDb } from './sqlite.js';

/**
 * Opens `gateway.db` in the data dir. A storage failure (SQLite or file-system error: read-only,
 * full, missing, no permission) is rethrown naming the directory (SECURITY.md), at start-up
 * rather than at the first heartbeat.
 */
/** The gateway's SQLite file in the data dir. */
export const DATA_FILE = 'gateway.db';

export function openDataDir<T>(dataDir: string, then: (db: SqliteDb) => T): { db: SqliteDb; value: T } {
  try {
    const file = join(dataDir, DATA_FILE);
    const db = openDatabase(file);
    // SQLite silently opens a file it cannot write read-only; refuse that here.
    accessSync(file, fsConstants.W_OK);
    return { db, value: then(db) };
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    if (typeof code !== 'string' || !/^(SQLITE_|E[A-Z]+$)/.test(code)) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(
      `cannot use the database in GATEWAY_DATA_DIR=${dataDir} (${code}: ${reason}); check that the directory exists, is writable and has free space`,
      { cause: err },
    );
  }
}
