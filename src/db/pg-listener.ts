import pg from 'pg';

export interface PgListener {
  /** Resolves once the first LISTEN is in place (or the first attempt failed; it keeps retrying). */
  ready: Promise<void>;
  /** True while LISTEN is in place on a live connection. */
  listening(): boolean;
  stop(): Promise<void>;
}

export interface PgListenerOptions {
  url: string;
  channel: string;
  /** Shown in pg_stat_activity, so an operator (or a test) can find this node's listening backend. */
  applicationName: string;
  onNotification(payload: string): void;
  /**
   * After every LISTEN, the first and each after a broken connection: notifications sent while
   * none was in place are lost (PostgreSQL delivers only to live listeners), so the caller looks again.
   */
  onListening(): void;
  onError(err: Error, retryInMs: number): void;
}

/** Retries back off from 100 ms to 5 s, as the registry pool's reachability probe does (sql-db.ts). */
const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5_000;

/**
 * LISTEN on one dedicated connection, outside the registry's pool: a pooled client goes back to
 * the pool after each query, and a LISTEN lives only as long as its session. A dropped
 * connection (server restart, pg_terminate_backend) is reopened with back-off.
 */
export function startPgListener(options: PgListenerOptions): PgListener {
  let client: pg.Client | undefined;
  let stopped = false;
  let live = false;
  let retryMs = FIRST_RETRY_MS;
  let timer: NodeJS.Timeout | undefined;
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  const scheduleRetry = (err: Error): void => {
    live = false;
    if (stopped || timer) return;
    options.onError(err, retryMs);
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, retryMs);
    timer.unref();
    retryMs = Math.min(MAX_RETRY_MS, retryMs * 2);
  };

  async function connect(): Promise<void> {
    if (stopped) return;
    const c = new pg.Client({ connectionString: options.url, application_name: options.applicationName });
    client = c;
    let failed = false;
    const fail = (err: Error) => {
      if (failed) return;
      failed = true;
      c.removeAllListeners('notification');
      void c.end().catch(() => undefined);
      if (client === c) scheduleRetry(err);
    };
    c.on('error', fail);
    c.on('end', () => fail(new Error('LISTEN connection ended')));
    c.on('notification', (msg) => {
      if (msg.channel === options.channel && msg.payload !== undefined) options.onNotification(msg.payload);
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${pg.escapeIdentifier(options.channel)}`);
    } catch (err) {
      fail(err as Error);
      markReady();
      return;
    }
    if (stopped) {
      await c.end().catch(() => undefined);
      return;
    }
    live = true;
    retryMs = FIRST_RETRY_MS;
    markReady();
    options.onListening();
  }

  void connect();
  return {
    ready,
    listening: () => live,
    async stop() {
      stopped = true;
      live = false;
      clearTimeout(timer);
      const c = client;
      client = undefined;
      if (c) {
        c.removeAllListeners('end');
        c.on('error', () => undefined);
        await c.end().catch(() => undefined);
      }
    },
  };
}
