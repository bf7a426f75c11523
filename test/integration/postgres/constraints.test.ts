/**
 * test/integration/redemption/constraints.test.ts on PostgreSQL: the same partial unique indexes
 * and guard triggers (rendered by src/db/portable-ddl.ts), exercised with raw SQL from separate
 * connections released together, so no application code stands between an attempt and the
 * constraint. PostgreSQL's refusals: 23505 (unique), 23514 (check), GW001 (guard trigger).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { VirtualClock } from '../../../src/clock.js';
import { openSqlDb, type SqlDb } from '../../../src/db/sql-db.js';
import { silentLogger } from '../../../src/log.js';
import { createRegistry } from '../../../src/registry/index.js';
import { createDatabase } from '../../support/postgres.js';
import { seedSupplierContract, stubEngine } from '../../unit/registry/fixtures.js';

const INSERT = `INSERT INTO redemption_applications (contract_id, supplier_id, program, cluster_pilot, state, submitted_at, submitted_by,
  evidence, recommendation, voucher_fen, payable_fen, report_digest) VALUES ($1, $2, 2020, 0, 'submitted', 1, 'k', '{}', '{}', 700000, 700000, 'sha256:x') RETURNING id`;
const APPROVE = `UPDATE redemption_applications SET state = 'approved', decided_at = 2, decided_by = $1 WHERE id = $2 AND state = 'submitted'`;

type Outcome = { changes?: number; error?: string };

let url: string;
let registryDb: SqlDb;
let clients: pg.Client[];
let ids: { supplierId: string; contractId: string };

beforeAll(async () => {
  const server = inject('postgresUrl');
  if (!server) throw new Error('no PostgreSQL (test/integration/global-setup.ts)');
  url = await createDatabase(server, 'constraints');
  registryDb = openSqlDb({ kind: 'postgres', url });
  const registry = await createRegistry({ sql: registryDb, clock: new VirtualClock('2020-06-01T10:00:00+08:00'), log: silentLogger, engine: stubEngine });
  clients = [new pg.Client(url), new pg.Client(url)];
  await Promise.all(clients.map((c) => c.connect()));
  ids = await seedSupplierContract(registry);
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.end()));
  await registryDb.close();
});

const main = () => clients[0]!;
/** Each statement on its own connection, sent together; PostgreSQL orders them by its row locks. */
const race = (statements: Array<{ text: string; values: unknown[] }>): Promise<Outcome[]> =>
  Promise.all(
    statements.map((s, i) =>
      clients[i]!.query(s.text, s.values).then(
        (r) => ({ changes: r.rowCount ?? 0 }),
        (err: { code?: string }) => ({ error: err.code ?? String(err) }),
      ),
    ),
  );
const insert = async (contractId = ids.contractId) => Number((await main().query<{ id: string }>(INSERT, [contractId, ids.supplierId])).rows[0]!.id);
const states = async () =>
  (await main().query<{ state: string }>('SELECT state FROM redemption_applications WHERE contract_id = $1 ORDER BY id', [ids.contractId])).rows.map((r) => r.state);
const refusal = async (text: string, values: unknown[] = []): Promise<string | undefined> =>
  main().query(text, values).then(
    () => undefined,
    (err: { code?: string }) => err.code,
  );

describe('redemption_applications constraints on PostgreSQL', () => {
  it('two connections approving one application at once: exactly one changes it', async () => {
    const id = await insert();
    const outcomes = await race([
      { text: APPROVE, values: ['reviewer-a', id] },
      { text: APPROVE, values: ['reviewer-b', id] },
    ]);
    expect(outcomes.map((o) => o.changes).sort()).toEqual([0, 1]);
    expect(await states()).toEqual(['approved']);
  });

  it('a second open application for the contract is refused by the unique index, from either connection', async () => {
    // The contract's approved application (above) is open: any further submission is refused.
    const outcomes = await race([
      { text: INSERT, values: [ids.contractId, ids.supplierId] },
      { text: INSERT, values: [ids.contractId, ids.supplierId] },
    ]);
    expect(outcomes.map((o) => o.error)).toEqual(['23505', '23505']);
    expect(await states()).toEqual(['approved']);
  });

  it('approvals forced past the state guard after a settled payout: the one-payout index refuses both', async () => {
    const [first] = (await main().query<{ id: string }>('SELECT id FROM redemption_applications WHERE contract_id = $1', [ids.contractId])).rows;
    await main().query(`INSERT INTO settlement_batches (created_at, actor, budget_fen, total_fen, application_count, csv) VALUES (3, 'a', NULL, 700000, 1, '')`);
    await main().query(`UPDATE redemption_applications SET state = 'settled', settled_at = 3, settlement_batch_id = (SELECT max(id) FROM settlement_batches) WHERE id = $1`, [first!.id]);
    const second = await insert();
    const forced = `UPDATE redemption_applications SET state = 'approved', decided_at = 4, decided_by = $1 WHERE id = $2`;
    const outcomes = await race([
      { text: forced, values: ['reviewer-a', second] },
      { text: forced, values: ['reviewer-b', second] },
    ]);
    expect(outcomes.map((o) => o.error)).toEqual(['23505', '23505']);
    expect(await states()).toEqual(['settled', 'submitted']);
  });

  it('allows only the lifecycle transitions, freezes decided amounts, never deletes (guard triggers, GW001)', async () => {
    const id = Number((await main().query<{ id: string }>(`SELECT id FROM redemption_applications WHERE state = 'submitted' AND contract_id = $1`, [ids.contractId])).rows[0]!.id);
    expect(await refusal(`UPDATE redemption_applications SET state = 'withdrawn', withdrawn_at = 5 WHERE id = $1`, [id])).toBeUndefined();
    expect(await refusal(`UPDATE redemption_applications SET state = 'submitted', withdrawn_at = NULL WHERE id = $1`, [id])).toBe('GW001');
    expect(await refusal(`UPDATE redemption_applications SET payable_fen = 1 WHERE id = $1`, [id])).toBe('GW001');
    expect(await refusal('DELETE FROM redemption_applications WHERE id = $1', [id])).toBe('GW001');
    expect(await refusal(`UPDATE settlement_batches SET total_fen = 0`)).toBe('GW001');
    expect(await refusal('DELETE FROM audit_log')).toBe('GW001');
  });

  it('refuses a payable above the voucher, a rejection without a reason, a batch above its budget (CHECK, 23514)', async () => {
    expect(await refusal(INSERT.replace('700000, 700000', '700000, 700001'), [ids.contractId, ids.supplierId])).toBe('23514');
    expect(await refusal(`INSERT INTO settlement_batches (created_at, actor, budget_fen, total_fen, application_count, csv) VALUES (1, 'a', 100, 101, 1, '')`)).toBe('23514');
    expect(await refusal(`UPDATE redemption_applications SET state = 'rejected', decided_at = 2, decided_by = 'r' WHERE state = 'settled'`)).toBe('GW001');
  });
});
