// Values the integration globalSetup hands to tests (vitest provide/inject).
export {};

declare module 'vitest' {
  export interface ProvidedContext {
    /** `http://127.0.0.1:<port>` of the shared influxd; null only outside CI and `npm test` when influxd is absent (global-setup.ts). */
    influxUrl: string | null;
    /** `postgres://postgres@127.0.0.1:<port>/postgres` of the shared PostgreSQL 15 (test/support/postgres.ts); null as influxUrl. */
    postgresUrl: string | null;
  }
}
