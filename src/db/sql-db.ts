import { AsyncLocalStorage } from 'node:async_hooks';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql, type RawBuilder, type SqliteDatabase, type SqliteStatement } from 'kysely';
import pg from 'pg';
import type { Clock } from '../clock.js';
import { sqliteDdlToPostgres } from './portable-ddl.js';
import { isUnreachable, migratePostgres, numericTypes } from './postgres.js';
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
   * Runs `fn` in one transaction (on SQLite `BEGIN IMMEDIATE`). On PostgreSQL every write transaction first takes one
   * transaction-level advisory lock, so registry writes are serialised across gateway nodes as
   * SQLite serialises them in one file: re-allocation reads every contract of a program and
   * must not interleave with another node's.
   */
  transaction<T>(fn: () => Promise<T>, options?: TransactionOptions): Promise<T>;
  /** The kysely instance (inside a transaction: the transaction), for the query builder. */
  q(): Kysely<any>;
  /** Runs the component's migrations not yet applied (on PostgreSQL under an advisory lock, rendered by portable-ddl.ts). */
  migrate(component: string, migrations: readonly Migration[], clock: Clock): Promise<number>;
  /** Degraded from a query that found PostgreSQL unreachable until a probe (with back-off) reaches it again. */
  health(): { status: 'ok' } | { status: 'degraded'; detail: string };
  close(): Promise<void>;
}

/**
 * The registry's database cannot be reached (PostgreSQL down or restarting): the API answers
 * 503 problem+json with Retry-After (src/api/problem.ts), MQTT CONNECTs get "server unavailable".
 */
export class DatabaseUnavailableError extends Error {
  override readonly name = 'DatabaseUnavailableError';
}

export interface TransactionOptions {
  /**
   * Default true: take the registry's write lock on PostgreSQL. Writes that commute (counter
   * upserts, appended events) pass false and run beside the registry's writes.
   */
  exclusive?: boolean;
}

/** Key of the registry's write lock (pg_advisory_xact_lock), distinct from the migration lock. */
const REGISTRY_WRITE_LOCK_KEY = '7406113600216002';

export type SqlDbLocation = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string; maxConnections?: number };

export function openSqlDb(location: SqlDbLocation): SqlDb {
  if (location.kind === 'sqlite') {
    // Its own connection to the gateway's file: kysely holds it for a transaction across
    // awaits, and the telemetry store's synchronous connection must never find itself inside it.
    const db: Database.Database = openDatabase(location.file);
    return wrap('sqlite', new Kysely<any>({ dialect: new SqliteDialect({ database: withStatementCache(db) }) }), async (component, migrations) =>
      migrate(db, component, migrations),
    );
  }
  // A connection that cannot be had in 5 s fails the request (503) rather than queueing it forever.
  const pool = new pg.Pool({ connectionString: location.url, max: location.maxConnections ?? 10, types: numericTypes, connectionTimeoutMillis: 5_000 });
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
  const reachability = createReachability(root);
  /** Runs a database call; an unreachable server degrades health() and becomes DatabaseUnavailableError. */
  async function guarded<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (!isUnreachable(err)) throw err;
      throw reachability.failed(err as Error);
    }
  }
  return {
    dialect,
    q,
    all: <R>(query: RawBuilder<R>) => guarded(async () => (await query.execute(q())).rows),
    one: <R>(query: RawBuilder<R>) => guarded(async () => (await query.execute(q())).rows[0]),
    run: (query: RawBuilder<unknown>) => guarded(async () => Number((await query.execute(q())).numAffectedRows ?? 0n)),
    async transaction<T>(fn: () => Promise<T>, options: TransactionOptions = {}): Promise<T> {
      if (current.getStore()) return fn();
      if (dialect === 'postgres') {
        return guarded(() =>
          root.transaction().execute((trx) =>
            current.run(trx, async () => {
              if (options.exclusive ?? true) await sql`SELECT pg_advisory_xact_lock(${REGISTRY_WRITE_LOCK_KEY}::bigint)`.execute(trx);
              return fn();
            }),
          ),
        );
      }
      // SQLite: IMMEDIATE takes the file's write lock at BEGIN. A deferred transaction that reads
      // first would fail with SQLITE_BUSY_SNAPSHOT at its first write whenever the telemetry
      // store's connection to the same file committed in between.
      return guarded(() =>
        root.connection().execute((conn) =>
          current.run(conn, async () => {
            await sql`BEGIN IMMEDIATE`.execute(conn);
            try {
              const result = await fn();
              await sql`COMMIT`.execute(conn);
              return result;
            } catch (err) {
              await sql`ROLLBACK`.execute(conn);
              throw err;
            }
          }),
        ),
      );
    },
    migrate,
    health: reachability.health,
    close: async () => {
      reachability.stop();
      await root.destroy();
    },
  };
}

/** Degraded after a failure until `SELECT 1` answers again; probes back off from 100 ms to 5 s. */
function createReachability(root: Kysely<any>) {
  let failing: { detail: string } | null = null;
  let timer: NodeJS.Timeout | undefined;
  const probe = (delayMs: number): void => {
    timer = setTimeout(() => {
      sql`SELECT 1`.execute(root).then(
        () => {
          failing = null;
        },
        () => probe(Math.min(5_000, delayMs * 2)),
      );
    }, delayMs);
    timer.unref();
  };
  return {
    failed(err: Error): DatabaseUnavailableError {
      if (!failing) probe(100);
      failing = { detail: `registry database unreachable (${err.message}); retry later` };
      return new DatabaseUnavailableError(failing.detail, { cause: err });
    },
    health: (): { status: 'ok' } | { status: 'degraded'; detail: string } => (failing ? { status: 'degraded', ...failing } : { status: 'ok' }),
    stop: () => clearTimeout(timer),
  };
}

/** Statements kept prepared per SQL text; kysely's SQLite driver would otherwise prepare every query anew. */
const STATEMENT_CACHE_SIZE = 500;

/**
 * better-sqlite3 with prepared statements reused by SQL text (least recently used beyond 500).
 * A query's text is the same each time it runs with other parameters, and preparing is most of
 * a small query's cost.
 */
function withStatementCache(db: Database.Database): SqliteDatabase {
  const cache = new Map<string, Database.Statement>();
  return {
    close: () => db.close(),
    prepare(text: string) {
      let statement = cache.get(text);
      if (statement) {
        cache.delete(text);
      } else {
        statement = db.prepare(text);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      }
      cache.set(text, statement);
      return statement as unknown as SqliteStatement;
    },
  };
}

/** `IN (…)` over a list of values (never empty: callers answer an empty list themselves). */
export function sqlIn(values: readonly unknown[]): RawBuilder<unknown> {
  if (values.length === 0) throw new RangeError('sqlIn needs at least one value');
  return sql`(${sql.join(values)})`;
}
