import pg from 'pg';
import type { Clock } from '../clock.js';

export interface PostgresMigration {
  version: number;
  description: string;
  /** One or more SQL statements, run in the migration's transaction. */
  up: string;
}

/**
 * Every node runs the migrations at start-up; the first to take this session-level advisory
 * lock applies them while the others wait on it, then find nothing left to do. One key for
 * all components, so two components' migrations never interleave either.
 */
const MIGRATION_LOCK_KEY = 7_406_113_600_216_001n;

/**
 * `int8` and `numeric` arrive as JS numbers: every int8 the gateway stores (epoch ms, fen, counts)
 * and every `sum()` of them (numeric in PostgreSQL) is an integer far below 2^53.
 */
export const numericTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    (oid === pg.types.builtins.INT8 || oid === pg.types.builtins.NUMERIC) && format !== 'binary'
      ? Number
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

/**
 * Versioned migrations per component in `gateway_schema_migrations` (the PostgreSQL twin of
 * src/db/sqlite.ts `migrate`), each in its own transaction, all under an advisory lock so
 * several gateway nodes may start at once. Returns the component's version afterwards.
 */
export async function migratePostgres(pool: pg.Pool, component: string, migrations: readonly PostgresMigration[], clock: Clock): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS gateway_schema_migrations (
        component   text        NOT NULL,
        version     integer     NOT NULL,
        description text        NOT NULL,
        applied_at  timestamptz NOT NULL,
        PRIMARY KEY (component, version))`);
      const { rows } = await client.query<{ version: number | null }>(
        'SELECT max(version) AS version FROM gateway_schema_migrations WHERE component = $1',
        [component],
      );
      let current = rows[0]?.version ?? 0;
      for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
        if (migration.version <= current) continue;
        await client.query('BEGIN');
        try {
          await client.query(migration.up);
          await client.query('INSERT INTO gateway_schema_migrations (component, version, description, applied_at) VALUES ($1, $2, $3, $4)', [
            component,
            migration.version,
            migration.description,
            new Date(clock.now()),
          ]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw err;
        }
        current = migration.version;
      }
      return current;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY.toString()]);
    }
  } finally {
    client.release();
  }
}

/** Connection-level failures (SQLSTATE class 08, the server shutting down or starting, socket errors): PostgreSQL is unreachable. */
export function isUnreachable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03') return true;
    if (/^E[A-Z]+$/.test(code)) return true; // ECONNREFUSED, ECONNRESET, ETIMEDOUT, EPIPE, …
  }
  return /Connection terminated|timeout exceeded|connection timeout|Client has encountered a connection error/i.test(err.message);
}
