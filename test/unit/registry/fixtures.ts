/**
 * Test fixtures for the registry: a registry on a temp-dir SQLite file that removes itself,
 * builders with overrides, and a stub voucher engine for tests whose subject is not the rules.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../../../src/clock.js';
import { openDatabase, type SqliteDb } from '../../../src/db/sqlite.js';
import { openSqlDb, type SqlDb } from '../../../src/db/sql-db.js';
import { silentLogger, type Logger } from '../../../src/log.js';
import {
  createRegistry,
  creditCodeCheckChar,
  type ContractInput,
  type EnterpriseInput,
  type Registry,
  type VoucherEngine,
} from '../../../src/registry/index.js';

export interface TestRegistry {
  registry: Registry;
  db: SqliteDb;
  sql: SqlDb;
  clock: VirtualClock;
  dir: string;
  /** Closes both connections and removes the directory (unless `keepFiles`, for a reopen). */
  close(options?: { keepFiles?: boolean }): Promise<void>;
}

export async function openTestRegistry(options: { engine?: VoucherEngine; log?: Logger } = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-registry-'));
  const file = join(dir, 'gateway.sqlite');
  const db = openDatabase(file);
  const sql = openSqlDb({ kind: 'sqlite', file });
  const clock = new VirtualClock('2020-06-01T10:00:00+08:00');
  const registry = await createRegistry({
    sql,
    clock,
    log: options.log ?? silentLogger,
    ...(options.engine ? { engine: options.engine } : {}),
  });
  let closed = false;
  return {
    registry,
    db,
    sql,
    clock,
    dir,
    async close(options = {}) {
      if (closed) return;
      closed = true;
      await sql.close();
      db.close();
      if (!options.keepFiles) rmSync(dir, { recursive: true, force: true });
    },
  };
}

let creditSeq = 0;
/** A fresh valid 统一社会信用代码 (Guangdong prefix, check character computed). */
export function buildCreditCode(): string {
  creditSeq += 1;
  const first17 = `914406${String(creditSeq).padStart(11, '0')}`;
  return first17 + creditCodeCheckChar(first17)!;
}

export function buildEnterprise(overrides: Partial<EnterpriseInput> = {}): EnterpriseInput {
  return { name: '佛山市某机械有限公司', creditCode: buildCreditCode(), city: '佛山', clusterPilot: false, ...overrides };
}

export function buildContract(
  refs: { enterpriseId: string; supplierId: string },
  overrides: Partial<ContractInput> = {},
): ContractInput {
  return {
    ...refs,
    program: 2020,
    catalogId: 5,
    contractAmountFen: 10_000_000,
    appliedAt: '2020-06-01T10:00:00+08:00',
    ...overrides,
  };
}

/**
 * Approves 70% of every contract and admits everything: for tests of devices, keys and audit,
 * which must not depend on the rules engine's decisions.
 */
export const stubEngine: VoucherEngine = {
  hasProgram: (year) => year === 2020,
  hasCatalogItem: (_program, catalogId) => catalogId >= 1 && catalogId <= 27,
  resolveCity: (input) =>
    input === '佛山' || input === '佛山市' || input === '440600'
      ? { name: '佛山市', code: '440600' }
      : input === '广州' || input === '广州市' || input === '440100'
        ? { name: '广州市', code: '440100' }
        : undefined,
  cities: () => [
    { city: { name: '广州市', code: '440100' }, defaultQuotaFen: null },
    { city: { name: '佛山市', code: '440600' }, defaultQuotaFen: null },
  ],
  initialSupplierQuotaFen: (kind) => (kind === 'platform' ? 800_000_000 : 500_000_000),
  evaluate: (program, enterprise, contracts) =>
    contracts.map((c) => ({
      program,
      decision: 'approved' as const,
      voucherFen: Math.floor((c.contractAmountFen * 70) / 100),
      requiredDevices: null,
      reasons: [],
      explanation: { stub: true },
      enterprise: { eligible: true, city: enterprise.city, region: 'pearl-river-delta', ratePercent: 70, reasons: [] },
    })),
  allocate: (_program, candidates) =>
    new Map(candidates.map((c, i) => [c.id, { status: 'admitted' as const, position: i + 1, reasons: [], balances: {} }])),
};

/** A supplier with one contract, on the stub engine. */
export async function seedSupplierContract(registry: Registry, name = '某平台'): Promise<{ supplierId: string; contractId: string }> {
  const supplier = await registry.suppliers.create({ name, kind: 'other' }, 'test');
  const enterprise = await registry.enterprises.create(buildEnterprise(), 'test');
  const contract = await registry.contracts.create(buildContract({ enterpriseId: enterprise.id, supplierId: supplier.id }), 'test');
  return { supplierId: supplier.id, contractId: contract.id };
}
