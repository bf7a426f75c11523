import type { Clock } from '../clock.js';
import type { SqlDb } from '../db/sql-db.js';
import type { Logger } from '../log.js';
import { createIntegrityChecker, type IntegrityChecker } from './integrity.js';
import type { Signer } from './signer.js';
import { createTransparencyLog, type TransparencyLog } from './transparency-log.js';

/** What the gateway holds of this component: the log, its integrity check, and the check's timer. */
export interface Trust {
  log: TransparencyLog;
  integrity: IntegrityChecker;
  /** Stops the periodic check and waits for a running one (before the database closes). */
  close(): Promise<void>;
}

export interface TrustOptions {
  /** The registry's database (SQLite or PostgreSQL), already migrated. */
  sql: SqlDb;
  clock: Clock;
  log: Logger;
  signer: Signer;
  /** Period of the integrity check; 0 runs it only once, at start. */
  checkIntervalMs: number;
}

/** Builds the transparency log over the (already migrated) registry database and starts its checks. */
export function createTrust(options: TrustOptions): Trust {
  const { sql: db, clock, signer } = options;
  const log = options.log.child({ component: 'trust' });
  const transparency = createTransparencyLog({ db, clock, signer });
  const integrity = createIntegrityChecker({ db, clock, log, tree: transparency.tree });
  const runCheck = () =>
    integrity.check().catch((err: unknown) => {
      log.error({ err }, 'audit log integrity check could not run');
    });
  let last: Promise<unknown> = runCheck();
  const timer =
    options.checkIntervalMs > 0
      ? setInterval(() => {
          last = runCheck();
        }, options.checkIntervalMs)
      : undefined;
  timer?.unref();
  return {
    log: transparency,
    integrity,
    async close() {
      if (timer) clearInterval(timer);
      await last;
    },
  };
}
