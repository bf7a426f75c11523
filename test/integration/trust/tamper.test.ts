import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { run } from '../../../src/cli/main.js';
import { sql } from 'kysely';
import { openSqlDb } from '../../../src/db/sql-db.js';
import { openDatabase, type SqliteDb } from '../../../src/db/sqlite.js';
import { auditEntryBytes, createAuditTree, type AuditRow } from '../../../src/trust/index.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { seedContract } from '../../support/seed.js';

/**
 * An attacker with write access to the SQLite file (a second connection, as another process
 * would have) drops the append-only triggers and rewrites history. The gateway's next
 * consistency check must say so in /healthz; an auditor's saved tree head must expose even a
 * rewrite that also rebuilt the tree.
 */
let gw: TestGateway | undefined;
let attacker: SqliteDb | undefined;
afterEach(async () => {
  attacker?.close();
  attacker = undefined;
  await gw?.close();
  gw = undefined;
});

async function seededGateway(): Promise<TestGateway> {
  gw = await startTestGateway({ env: { GATEWAY_AUDIT_CHECK_INTERVAL_S: '0' } });
  await seedContract(gw, { devices: 3, catalogId: 25, contractAmountFen: 200_000 });
  await seedContract(gw, { devices: 2, catalogId: 25, contractAmountFen: 100_000 });
  attacker = openDatabase(join(gw.dataDir, 'gateway.db'));
  return gw;
}

function dropTriggers(db: SqliteDb): void {
  const triggers = db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").pluck().all() as string[];
  for (const t of triggers) db.exec(`DROP TRIGGER ${t}`);
}

async function check(g: TestGateway) {
  return g.json<{ status: string; problems: string[]; treeSize: number }>('/v1/audit/check', { method: 'POST' });
}
async function health(g: TestGateway) {
  return g.json<{ status: string; auditLog: { status: string; problems: string[] } }>('/healthz', { key: null });
}

describe('tampering with the audit log in the database', () => {
  it('an untouched log checks ok and /healthz says so', async () => {
    const g = await seededGateway();
    await g.json('/v1/audit/tree-head', { key: null });
    expect(await check(g)).toMatchObject({ status: 'ok', problems: [] });
    expect(await health(g)).toMatchObject({ status: 'ok', auditLog: { status: 'ok' } });
  });

  it('an edited row is caught by the next check and /healthz turns degraded', async () => {
    const g = await seededGateway();
    await g.json('/v1/audit/tree-head', { key: null });
    dropTriggers(attacker!);
    attacker!.prepare("UPDATE audit_log SET actor = 'someone-else' WHERE id = 3").run();
    const result = await check(g);
    expect(result.status).toBe('tampered');
    expect(result.problems).toContain('leaf 2: audit row 3 differs from the entry logged');
    expect(await health(g)).toMatchObject({ status: 'degraded', auditLog: { status: 'tampered', problems: expect.arrayContaining([expect.stringContaining('audit row 3')]) } });
  });

  it('a deleted row is caught', async () => {
    const g = await seededGateway();
    dropTriggers(attacker!);
    attacker!.prepare('DELETE FROM audit_log WHERE id = 4').run();
    const result = await check(g);
    expect(result.status).toBe('tampered');
    expect(result.problems).toEqual(expect.arrayContaining([expect.stringMatching(/has \d+ rows but the log has \d+ leaves/), 'leaf 3: audit row 4 is missing (deleted or renumbered)']));
  });

  it('two rows swapped (reordered) are caught', async () => {
    const g = await seededGateway();
    dropTriggers(attacker!);
    attacker!.transaction(() => {
      attacker!.prepare('UPDATE audit_log SET id = -1 WHERE id = 2').run();
      attacker!.prepare('UPDATE audit_log SET id = 2 WHERE id = 3').run();
      attacker!.prepare('UPDATE audit_log SET id = 3 WHERE id = -1').run();
    })();
    const result = await check(g);
    expect(result.status).toBe('tampered');
    expect(result.problems).toEqual(expect.arrayContaining(['leaf 1: audit row 2 differs from the entry logged', 'leaf 2: audit row 3 differs from the entry logged']));
  });

  it('a rewritten interior node of the tree (which proofs are served from) is caught', async () => {
    const g = await seededGateway();
    dropTriggers(attacker!);
    attacker!.prepare('UPDATE audit_tree_nodes SET hash = zeroblob(32) WHERE level = 1 AND idx = 1').run();
    const result = await check(g);
    expect(result.status).toBe('tampered');
    expect(result.problems).toContain('tree node (1, 1) disagrees with the stored leaves below it');
  });

  it('a row edited with the whole tree rebuilt to match is caught by the signed heads, and an auditor\'s saved head exposes even a rewrite of those', async () => {
    const g = await seededGateway();
    const savedText = await (await g.api('/v1/audit/tree-head', { key: null })).text();
    const savedFile = join(g.dataDir, 'auditor-saved-head.json');
    writeFileSync(savedFile, savedText);
    const jwksFile = join(g.dataDir, 'auditor-jwks.json');
    writeFileSync(jwksFile, await (await g.api('/.well-known/jwks.json', { key: null })).text());

    const db = attacker!;
    dropTriggers(db);
    // The tree store runs on SqlDb: the attacker rebuilds through a second connection of that kind.
    const rebuildTree = async () => {
      const sqlDb = openSqlDb({ kind: 'sqlite', file: join(g.dataDir, 'gateway.db') });
      try {
        await sqlDb.transaction(async () => {
          await sqlDb.run(sql`DELETE FROM audit_leaves`);
          await sqlDb.run(sql`DELETE FROM audit_tree_nodes`);
          const tree = createAuditTree(sqlDb);
          for (const row of await sqlDb.all(sql<AuditRow>`SELECT id, at, actor, action, subject, details FROM audit_log ORDER BY id`)) {
            await tree.append(row.id, auditEntryBytes(row));
          }
        });
      } finally {
        await sqlDb.close();
      }
    };
    db.prepare(`UPDATE audit_log SET details = '{"name":"another supplier"}' WHERE action = 'supplier.create' AND id = (SELECT min(id) FROM audit_log WHERE action = 'supplier.create')`).run();
    await rebuildTree();
    const first = await check(g);
    expect(first.status).toBe('tampered');
    expect(first.problems).toEqual([expect.stringMatching(/^the first \d+ audit rows no longer hash to the signed tree head of size \d+$/)]);

    // The attacker also deletes the gateway's own signed heads: the gateway cannot tell any more…
    db.exec('DELETE FROM audit_tree_heads');
    expect((await check(g)).status).toBe('ok');
    // …but the auditor's saved head, held against the new signed head, can.
    const lines: string[] = [];
    const code = await run(['verify-log', '--from', savedFile, '--url', g.httpUrl, '--jwks', jwksFile], (s) => lines.push(s));
    expect(code).toBe(1);
    expect(lines.join('\n')).toMatch(/INCONSISTENT: the first \d+ entries are not a prefix of the current log: history was rewritten/);
  });
});
