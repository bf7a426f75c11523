import { AsyncLocalStorage } from 'node:async_hooks';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql, type RawBuilder } from 'kysely';
import pg from 'pg';
import type { Clock } from '../clock.js';
import { sqliteDdlToPostgres } from './portable-ddl.js';
import { migratePostgres, numericTypes } from './postgres.js';
import { migrate, openDatabase, type Migration } from './sqlite.js';

export type DialectName = 'sqlite' | 'postgres';

/**
 * The registry's database, SQLite or PostgreSQL, through kysely: one implementation of every
 * query for both (kysely's `sql` template compiles the parameters to `?` or `$n`, and each
 * dialect brings its driver, pool and transactions).
 *
 * Queries run inside the current transaction when there is one: `transaction(fn)` carries it
 * in an AsyncLocalStorage, so a use-case's helpers (the audit log, re-allocation) join it
 * without passing it along, and a nested `transaction` joins the outer one.
 */
export interface SqlDb {
  readonly dialect: DialectName;
  all<R>(query: RawBuilder<R>): Promise<R[]>;
  one<R>(query: RawBuilder<R>): Promise<R | undefined>;
  /** Rows changed by an INSERT, UPDATE or DELETE. */
  run(query: RawBuilder<unknown>): Promise<number>;
  /**
   * Runs `fn` in one transaction. On PostgreSQL every write transaction first takes one
   * transaction-level advisory lock, so registry writes are serialised across gateway nodes as
   * SQLite serialises them in one file: re-allocation reads every contract of a program and
   * must not interleave with another node's.
   */
  transaction<T>(fn: () => Promise<T>): Promise<T>;
  /** The kysely instance (inside a transaction: the transaction), for the query builder. */
  q(): Kysely<any>;
  /** Runs the component's migrations not yet applied (on PostgreSQL under an advisory lock, rendered by portable-ddl.ts). */
  migrate(component: string, migrations: readonly Migration[], clock: Clock): Promise<number>;
  close(): Promise<void>;
}

/** Key of the registry's write lock (pg_advisory_xact_lock), distinct from the migration lock. */
const REGISTRY_WRITE_LOCK_KEY = '7406113600216002';

export type SqlDbLocation = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string; maxConnections?: number };

export function openSqlDb(location: SqlDbLocation): SqlDb {
  if (location.kind === 'sqlite') {
    // Its own connection to the gateway's file: kysely holds it for a transaction across
    // awaits, and the telemetry store's synchronous connection must never find itself inside it.
    const db: Database.Database = openDatabase(location.file);
    return wrap('sqlite', new Kysely<any>({ dialect: new SqliteDialect({ database: db }) }), async (component, migrations) =>
      migrate(db, component, migrations),
    );
  }
  const pool = new pg.Pool({ connectionString: location.url, max: location.maxConnections ?? 10, types: numericTypes });
  // An idle client's error (the server restarted) must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  return wrap('postgres', new Kysely<any>({ dialect: new PostgresDialect({ pool }) }), (component, migrations, clock) =>
    migratePostgres(
      pool,
      component,
      migrations.map((m) => {
        if (typeof m.up !== 'string') throw new Error(`migration ${component} ${m.version} is code, not portable DDL`);
        return { version: m.version, description: m.description, up: sqliteDdlToPostgres(m.up) };
      }),
      clock,
    ),
  );
}

function wrap(dialect: DialectName, root: Kysely<any>, migrate: SqlDb['migrate']): SqlDb {
  const current = new AsyncLocalStorage<Kysely<any>>();
  const q = () => current.getStore() ?? root;
  return {
    dialect,
    q,
    async all<R>(query: RawBuilder<R>) {
      return (await query.execute(q())).rows;
    },
    async one<R>(query: RawBuilder<R>) {
      return (await query.execute(q())).rows[0];
    },
    async run(query: RawBuilder<unknown>) {
      return Number((await query.execute(q())).numAffectedRows ?? 0n);
    },
    async transaction<T>(fn: () => Promise<T>): Promise<T> {
      if (current.getStore()) return fn();
      return root.transaction().execute((trx) =>
        current.run(trx, async () => {
          if (dialect === 'postgres') await sql`SELECT pg_advisory_xact_lock(${REGISTRY_WRITE_LOCK_KEY}::bigint)`.execute(trx);
          return fn();
        }),
      );
    },
    migrate,
    close: () => root.destroy(),
  };
}

/** `IN (…)` over a list of values (never empty: callers answer an empty list themselves). */
export function sqlIn(values: readonly unknown[]): RawBuilder<unknown> {
  if (values.length === 0) throw new RangeError('sqlIn needs at least one value');
  return sql`(${sql.join(values)})`;
}
