import { sql } from 'kysely';
import { badRequest } from '../errors.js';
import type { Actor, RegistryContext } from './context.js';
import type { Reallocate, SupplierKind } from './suppliers.js';

/** City and supplier quotas of one program year with what admitted contracts use of them (37号 §三). */
export interface ProgramQuotas {
  program: number;
  cities: { code: string; name: string; quotaFen: number | null; usedFen: number }[];
  suppliers: { id: string; name: string; kind: SupplierKind; quotaFen: number; usedFen: number }[];
}

export interface Quotas {
  get(program: number): Promise<ProgramQuotas>;
  /** Sets a city's quota for the program (null = unlimited) and re-runs allocation. */
  setCityQuota(program: number, city: string, quotaFen: number | null, actor: Actor): Promise<ProgramQuotas>;
}

export function createQuotas(ctx: RegistryContext, reallocate: Reallocate): Quotas {
  const { sql: db, audit, engine } = ctx;

  const requireProgram = (program: number): void => {
    if (!engine.hasProgram(program)) {
      throw badRequest('GW_ERR_REGISTRY_UNKNOWN_PROGRAM', `no program year ${program}`, [
        { path: 'path.year', message: `unknown program year ${program}` },
      ]);
    }
  };

  const get = async (program: number): Promise<ProgramQuotas> => {
    requireProgram(program);
    const cityRows = await db.all<{ city_code: string; quota_fen: number | null }>(
      sql`SELECT city_code, quota_fen FROM program_city_quotas WHERE program = ${program}`,
    );
    const usedRows = await db.all<{ city_code: string; used: number }>(sql`SELECT e.city_code, sum(c.voucher_fen) AS used FROM contracts c
      JOIN enterprises e ON e.id = c.enterprise_id WHERE c.program = ${program} AND c.status = 'admitted' GROUP BY e.city_code`);
    const supplierRows = await db.all<{ id: string; name: string; kind: SupplierKind; quota_fen: number; used: number }>(sql`
      SELECT s.id, s.name, s.kind, s.quota_fen,
        coalesce((SELECT sum(c.voucher_fen) FROM contracts c WHERE c.supplier_id = s.id AND c.program = ${program} AND c.status = 'admitted'), 0) AS used
      FROM suppliers s ORDER BY s.rowid`);
    const configured = new Map(cityRows.map((r) => [r.city_code, r.quota_fen]));
    // sum() of a BIGINT is numeric on PostgreSQL, which node-postgres hands over as a string
    // (src/db/postgres.ts parses only int8); Number() reads both that and SQLite's integer.
    const used = new Map(usedRows.map((r) => [r.city_code, Number(r.used)]));
    return {
      program,
      cities: engine.cities(program).map(({ city, defaultQuotaFen }) => ({
        code: city.code,
        name: city.name,
        quotaFen: configured.has(city.code) ? configured.get(city.code)! : defaultQuotaFen,
        usedFen: used.get(city.code) ?? 0,
      })),
      suppliers: supplierRows.map((s) => ({ id: s.id, name: s.name, kind: s.kind, quotaFen: s.quota_fen, usedFen: Number(s.used) })),
    };
  };

  return {
    get,
    setCityQuota: (program, cityInput, quotaFen, actor) =>
      db.transaction(async () => {
        requireProgram(program);
        const city = engine.resolveCity(cityInput);
        if (!city) {
          throw badRequest('GW_ERR_REGISTRY_UNKNOWN_CITY', `unknown city ${cityInput}`, [
            { path: 'path.code', message: `not a city name or GB/T 2260 code: ${cityInput}` },
          ]);
        }
        const before = (await get(program)).cities.find((c) => c.code === city.code)?.quotaFen ?? null;
        await db.run(sql`INSERT INTO program_city_quotas (program, city_code, quota_fen) VALUES (${program}, ${city.code}, ${quotaFen})
          ON CONFLICT (program, city_code) DO UPDATE SET quota_fen = excluded.quota_fen`);
        await audit.append(actor, 'program.city-quota.set', `program:${program}:city:${city.code}`, {
          program,
          city,
          fromFen: before,
          toFen: quotaFen,
        });
        await reallocate(program, actor);
        return get(program);
      }),
  };
}
