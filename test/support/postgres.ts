/** Test databases on the local PostgreSQL server (cluster/postgres-server.ts starts it). */
import pg from 'pg';
import { inject } from 'vitest';

export { postgresAvailable, POSTGRES_BIN_DIR, startPostgres, type PostgresServer } from '../../cluster/postgres-server.js';

let databases = 0;

/** A fresh, empty database on the server at `serverUrl` (each test its own), as a connection URL. */
export async function createDatabase(serverUrl: string, prefix: string): Promise<string> {
  const name = `${prefix}_${process.pid}_${++databases}_${Date.now()}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const client = new pg.Client(serverUrl);
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * A fresh, empty schema in the server's maintenance database, as a connection URL whose
 * search_path is that schema: tables, functions and the migrations table all land in it.
 * Much cheaper than a database (the contract suite's property test makes one per run).
 */
export async function createSchema(serverUrl: string, prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${process.pid}_${++databases}_${Date.now()}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const admin = async (sql: string): Promise<void> => {
    const client = new pg.Client(serverUrl);
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE SCHEMA "${name}"`);
  const url = new URL(serverUrl);
  url.searchParams.set('options', `-c search_path=${name}`);
  return { url: url.toString(), drop: () => admin(`DROP SCHEMA "${name}" CASCADE`) };
}


/** A fresh database on the integration setup's PostgreSQL server (test/integration/global-setup.ts), as a connection URL. */
export async function testDatabase(prefix: string): Promise<string> {
  const server = inject('postgresUrl');
  if (!server) throw new Error('no PostgreSQL for this test (test/integration/global-setup.ts)');
  return createDatabase(server, prefix);
}

/** The environment of one gateway node among several sharing the database at `url` (issue 17). */
export function clusterNodeEnv(url: string, nodeId: string): Record<string, string> {
  return { GATEWAY_DATABASE_URL: url, GATEWAY_STORE: 'postgres', GATEWAY_NODE_ID: nodeId };
}
