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
  create(input: SupplierInput, actor: Actor): Supplier;
  get(id: string): Supplier | undefined;
  /** `supplierId` restricts the list to that one supplier (supplier keys). */
  page(filter?: { supplierId?: string }, page?: PageRequest): Page<Supplier>;
  /** Sets the quota and re-runs allocation of every program the supplier has contracts in. */
  setQuota(id: string, quotaFen: number, actor: Actor): Supplier;
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

export function createSuppliers(ctx: RegistryContext, reallocate: (program: number, actor: Actor) => void): Suppliers {
  const { db, clock, audit, engine } = ctx;
  const insert = db.prepare('INSERT INTO suppliers (id, name, kind, quota_fen, created_at) VALUES (?, ?, ?, ?, ?)');
  const byId = db.prepare('SELECT rowid, * FROM suppliers WHERE id = ?');
  const page = db.prepare(
    'SELECT rowid, * FROM suppliers WHERE rowid > @after AND (@supplierId IS NULL OR id = @supplierId) ORDER BY rowid LIMIT @limit',
  );
  const updateQuota = db.prepare('UPDATE suppliers SET quota_fen = ? WHERE id = ?');
  const programsOf = db.prepare('SELECT DISTINCT program FROM contracts WHERE supplier_id = ? ORDER BY program');

  const get = (id: string): Supplier | undefined => {
    const row = byId.get(id) as SupplierRow | undefined;
    return row && supplierFromRow(row);
  };

  return {
    create: (input, actor) =>
      db.transaction(() => {
        const id = newId('sup');
        const quotaFen = engine.initialSupplierQuotaFen(input.kind);
        insert.run(id, input.name, input.kind, quotaFen, clock.now());
        audit.append(actor, 'supplier.create', id, { name: input.name, kind: input.kind, quotaFen });
        return get(id)!;
      })(),

    get,

    page(filter = {}, request) {
      const limit = pageLimit(request);
      const rows = page.all({
        after: decodeCursor(request?.cursor),
        supplierId: filter.supplierId ?? null,
        limit: limit + 1,
      }) as SupplierRow[];
      return toPage(rows, limit, supplierFromRow);
    },

    setQuota: (id, quotaFen, actor) =>
      db.transaction(() => {
        const before = get(id);
        if (!before) throw notFound('supplier', id);
        if (!Number.isSafeInteger(quotaFen) || quotaFen < 0) {
          throw new AppError('GW_ERR_REGISTRY_BAD_QUOTA', 'quota must be a non-negative integer of fen');
        }
        updateQuota.run(quotaFen, id);
        audit.append(actor, 'supplier.quota.set', id, { fromFen: before.quotaFen, toFen: quotaFen });
        for (const { program } of programsOf.all(id) as { program: number }[]) reallocate(program, actor);
        return get(id)!;
      })(),
  };
}
