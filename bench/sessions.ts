/**
 * sessions (issue 17 point 3): what the session claim of every authenticated CONNECT costs
 * PostgreSQL in a storm. 10,000 claims through the registry (`claimMany`, in upserts of `batch`
 * as the coordinator's 5 ms window gathers them), three ways: first connects (inserts),
 * reconnects to the same node (updates), reconnects to another node (updates + NOTIFY, with a
 * LISTEN connection counting the notices delivered).
 */
import pg from 'pg';
import { VirtualClock } from '../src/clock.js';
import { openSqlDb } from '../src/db/sql-db.js';
import { silentLogger } from '../src/log.js';
import { createRegistry, SESSION_TAKEOVER_CHANNEL } from '../src/registry/index.js';

export interface SessionClaimRun {
  devices: number;
  batch: number;
  /** Claims a second, by kind. */
  insert: number;
  sameNode: number;
  otherNode: number;
  noticesDelivered: number;
}

export async function runSessionClaims(options: { url: string; devices: number; batch: number; log: (s: string) => void }): Promise<SessionClaimRun> {
  const sql = openSqlDb({ kind: 'postgres', url: options.url });
  const listener = new pg.Client(options.url);
  try {
    const registry = await createRegistry({ sql, clock: new VirtualClock(0), log: silentLogger });
    await listener.connect();
    let notices = 0;
    listener.on('notification', () => notices++);
    await listener.query(`LISTEN ${SESSION_TAKEOVER_CHANNEL}`);
    const ids = Array.from({ length: options.devices }, (_, i) => `bench-dev-${i}`);
    const storm = async (label: string, nodeId: string): Promise<number> => {
      const t0 = performance.now();
      const upserts = [];
      for (let i = 0; i < ids.length; i += options.batch) {
        upserts.push(registry.deviceSessions.claimMany(ids.slice(i, i + options.batch).map((deviceId) => ({ deviceId, nodeId, source: '10.0.0.1', at: 1 }))));
      }
      await Promise.all(upserts);
      const perSecond = (ids.length * 1000) / (performance.now() - t0);
      options.log(`  ${label.padEnd(40)} ${Math.round(perSecond).toLocaleString('en')} claims/s`);
      return perSecond;
    };
    const insert = await storm('first connects (insert)', 'node-1');
    const sameNode = await storm('reconnects, same node (update)', 'node-1');
    const otherNode = await storm('reconnects, other node (update + NOTIFY)', 'node-2');
    // Notices arrive after their commits; give the last ones a moment.
    for (let waited = 0; notices < ids.length && waited < 5000; waited += 50) await new Promise((r) => setTimeout(r, 50));
    return { devices: ids.length, batch: options.batch, insert, sameNode, otherNode, noticesDelivered: notices };
  } finally {
    await listener.end().catch(() => undefined);
    await sql.close();
  }
}
