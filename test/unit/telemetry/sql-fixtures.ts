import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql as raw } from 'kysely';
import { afterAll, beforeAll, onTestFinished } from 'vitest';
import { openSqlDb, type DialectName, type SqlDb } from '../../../src/db/sql-db.js';
import { sqliteDdlToPostgres } from '../../../src/db/portable-ddl.js';
import { createSchema, POSTGRES_BIN_DIR, postgresAvailable, startPostgres, type PostgresServer } from '../../support/postgres.js';

/**
 * The databases SqlDb-backed telemetry stores are tested on: a real SQLite file, and a real
 * PostgreSQL 15 (its own cluster, started once per test file) when its binaries are installed.
 */
export const SQL_DIALECTS: readonly DialectName[] = postgresAvailable() ? ['sqlite', 'postgres'] : ['sqlite'];
if (!postgresAvailable()) console.warn(`PostgreSQL evidence tests NOT RUN: ${POSTGRES_BIN_DIR}/initdb is absent (apt-get install postgresql)`);

export interface TestSqlDb {
  sql: SqlDb;
  /** Another connection (SQLite) or pool (PostgreSQL) to the same database. */
  reopen(): SqlDb;
  /** Runs SQLite DDL or plain SQL; a trigger is rendered for PostgreSQL as the migrations are. */
  exec(db: SqlDb, statement: string): Promise<void>;
  /** `DROP TRIGGER name` of `table`, in each dialect's spelling. */
  dropTrigger(db: SqlDb, name: string, table: string): Promise<void>;
}

/** Call inside `describe`: starts PostgreSQL for the dialect 'postgres', and answers a fresh database per test. */
export function useSqlDb(dialect: DialectName): () => Promise<TestSqlDb> {
  let server: PostgresServer | undefined;
  if (dialect === 'postgres') {
    beforeAll(async () => {
      server = await startPostgres();
    }, 120_000);
    afterAll(async () => {
      await server?.stop();
    });
  }
  return async () => {
    const opened: SqlDb[] = [];
    let location: Parameters<typeof openSqlDb>[0];
    let cleanup: () => Promise<void>;
    if (dialect === 'sqlite') {
      const dir = mkdtempSync(join(tmpdir(), 'evidence-test-'));
      location = { kind: 'sqlite', file: join(dir, 'gateway.db') };
      cleanup = async () => rmSync(dir, { recursive: true, force: true });
    } else {
      const schema = await createSchema(server!.url, 'evidence');
      location = { kind: 'postgres', url: schema.url, maxConnections: 4 };
      cleanup = () => schema.drop();
    }
    const open = (): SqlDb => {
      const db = openSqlDb(location);
      opened.push(db);
      return db;
    };
    onTestFinished(async () => {
      for (const db of opened) await db.close().catch(() => {});
      await cleanup();
    });
    return {
      sql: open(),
      reopen: open,
      async exec(db, statement) {
        const text = dialect === 'postgres' && /^\s*CREATE TRIGGER/i.test(statement) ? sqliteDdlToPostgres(statement) : statement;
        for (const part of text.split(';\n')) await db.run(raw.raw(part));
      },
      async dropTrigger(db, name, table) {
        await db.run(raw.raw(dialect === 'postgres' ? `DROP TRIGGER ${name} ON ${table}` : `DROP TRIGGER ${name}`));
      },
    };
  };
}
