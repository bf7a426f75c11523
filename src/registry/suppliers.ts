import { sql } from 'kysely';
import { AppError, notFound } from '../errors.js';
import { toShanghaiIso } from '../time/shanghai.js';
import type { Actor, RegistryContext } from './context.js';
import { newId } from './ids.js';
import { decodeCursor, pageLimit, toPage, type Page, type PageRequest } from './pagination.js';

export type SupplierKind = 'platform' | 'other';

export interface Supplier {
  id: string;
  name: string;
  kind: SupplierKind;
  /** Supplier quota (37号 §三): starts at the program's amount for the kind, adjustable by an admin. */
  quotaFen: number;
  createdAt: string;
}

export interface SupplierInput {
  name: string;
  kind: SupplierKind;
}

export interface Suppliers {
  create(input: SupplierInput, actor: Actor): Promise<Supplier>;
  get(id: string): Promise<Supplier | undefined>;
  /** `supplierId` restricts the list to that one supplier (supplier keys). */
  page(filter?: { supplierId?: string }, page?: PageRequest): Promise<Page<Supplier>>;
  /** Sets the quota and re-runs allocation of every program the supplier has contracts in. */
  setQuota(id: string, quotaFen: number, actor: Actor): Promise<Supplier>;
}

export interface SupplierRow {
  rowid: number;
  id: string;
  name: string;
  kind: SupplierKind;
  quota_fen: number;
  created_at: number;
}

export function supplierFromRow(row: SupplierRow): Supplier {
  return { id: row.id, name: row.name, kind: row.kind, quotaFen: row.quota_fen, createdAt: toShanghaiIso(row.created_at) };
}

/** Re-runs a program's allocation inside the caller's transaction (contracts.reallocate). */
export type Reallocate = (program: number, actor: Actor) => Promise<void>;

export function createSuppliers(ctx: RegistryContext, reallocate: Reallocate): Suppliers {
  const { sql: db, clock, audit, engine } = ctx;

  const get = async (id: string): Promise<Supplier | undefined> => {
    const row = await db.one<SupplierRow>(sql`SELECT rowid, id, name, kind, quota_fen, created_at FROM suppliers WHERE id = ${id}`);
    return row && supplierFromRow(row);
  };

  return {
    create: (input, actor) =>
      db.transaction(async () => {
        const id = newId('sup');
        const quotaFen = engine.initialSupplierQuotaFen(input.kind);
        await db.run(
          sql`INSERT INTO suppliers (id, name, kind, quota_fen, created_at) VALUES (${id}, ${input.name}, ${input.kind}, ${quotaFen}, ${clock.now()})`,
        );
        await audit.append(actor, 'supplier.create', id, { name: input.name, kind: input.kind, quotaFen });
        return (await get(id))!;
      }),

    get,

    async page(filter = {}, request) {
      const limit = pageLimit(request);
      let query = db
        .q()
        .selectFrom('suppliers')
        .select(['rowid', 'id', 'name', 'kind', 'quota_fen', 'created_at'])
        .where('rowid', '>', decodeCursor(request?.cursor));
      if (filter.supplierId !== undefined) query = query.where('id', '=', filter.supplierId);
      const rows = (await query.orderBy('rowid').limit(limit + 1).execute()) as SupplierRow[];
      return toPage(rows, limit, supplierFromRow);
    },

    setQuota: (id, quotaFen, actor) =>
      db.transaction(async () => {
        const before = await get(id);
        if (!before) throw notFound('supplier', id);
        if (!Number.isSafeInteger(quotaFen) || quotaFen < 0) {
          throw new AppError('GW_ERR_REGISTRY_BAD_QUOTA', 'quota must be a non-negative integer of fen');
        }
        await db.run(sql`UPDATE suppliers SET quota_fen = ${quotaFen} WHERE id = ${id}`);
        await audit.append(actor, 'supplier.quota.set', id, { fromFen: before.quotaFen, toFen: quotaFen });
        const programs = await db.all<{ program: number }>(
          sql`SELECT DISTINCT program FROM contracts WHERE supplier_id = ${id} ORDER BY program`,
        );
        for (const { program } of programs) await reallocate(program, actor);
        return (await get(id))!;
      }),
  };
}
