import { badRequest } from '../errors.js';
import type { Actor, RegistryContext } from './context.js';
import type { SupplierKind } from './suppliers.js';

/** City and supplier quotas of one program year with what admitted contracts use of them (37号 §三). */
export interface ProgramQuotas {
  program: number;
  cities: { code: string; name: string; quotaFen: number | null; usedFen: number }[];
  suppliers: { id: string; name: string; kind: SupplierKind; quotaFen: number; usedFen: number }[];
}

export interface Quotas {
  get(program: number): ProgramQuotas;
  /** Sets a city's quota for the program (null = unlimited) and re-runs allocation. */
  setCityQuota(program: number, city: string, quotaFen: number | null, actor: Actor): ProgramQuotas;
}

export function createQuotas(ctx: RegistryContext, reallocate: (program: number, actor: Actor) => void): Quotas {
  const { db, audit, engine } = ctx;
  const cityRows = db.prepare('SELECT city_code, quota_fen FROM program_city_quotas WHERE program = ?');
  const cityUsed = db.prepare(`SELECT e.city_code, sum(c.voucher_fen) AS used FROM contracts c
    JOIN enterprises e ON e.id = c.enterprise_id WHERE c.program = ? AND c.status = 'admitted' GROUP BY e.city_code`);
  const suppliers = db.prepare(`SELECT s.id, s.name, s.kind, s.quota_fen,
      coalesce((SELECT sum(c.voucher_fen) FROM contracts c WHERE c.supplier_id = s.id AND c.program = ? AND c.status = 'admitted'), 0) AS used
    FROM suppliers s ORDER BY s.rowid`);
  const upsert = db.prepare(`INSERT INTO program_city_quotas (program, city_code, quota_fen) VALUES (?, ?, ?)
    ON CONFLICT (program, city_code) DO UPDATE SET quota_fen = excluded.quota_fen`);

  const requireProgram = (program: number): void => {
    if (!engine.hasProgram(program)) {
      throw badRequest('GW_ERR_REGISTRY_UNKNOWN_PROGRAM', `no program year ${program}`, [
        { path: 'path.year', message: `unknown program year ${program}` },
      ]);
    }
  };

  const get = (program: number): ProgramQuotas => {
    requireProgram(program);
    const configured = new Map(
      (cityRows.all(program) as { city_code: string; quota_fen: number | null }[]).map((r) => [r.city_code, r.quota_fen]),
    );
    const used = new Map((cityUsed.all(program) as { city_code: string; used: number }[]).map((r) => [r.city_code, r.used]));
    return {
      program,
      cities: engine.cities(program).map(({ city, defaultQuotaFen }) => ({
        code: city.code,
        name: city.name,
        quotaFen: configured.has(city.code) ? configured.get(city.code)! : defaultQuotaFen,
        usedFen: used.get(city.code) ?? 0,
      })),
      suppliers: (
        suppliers.all(program) as { id: string; name: string; kind: SupplierKind; quota_fen: number; used: number }[]
      ).map((s) => ({ id: s.id, name: s.name, kind: s.kind, quotaFen: s.quota_fen, usedFen: s.used })),
    };
  };

  return {
    get,
    setCityQuota: (program, cityInput, quotaFen, actor) =>
      db.transaction(() => {
        requireProgram(program);
        const city = engine.resolveCity(cityInput);
        if (!city) {
          throw badRequest('GW_ERR_REGISTRY_UNKNOWN_CITY', `unknown city ${cityInput}`, [
            { path: 'path.code', message: `not a city name or GB/T 2260 code: ${cityInput}` },
          ]);
        }
        const before = get(program).cities.find((c) => c.code === city.code)?.quotaFen ?? null;
        upsert.run(program, city.code, quotaFen);
        audit.append(actor, 'program.city-quota.set', `program:${program}:city:${city.code}`, {
          program,
          city,
          fromFen: before,
          toFen: quotaFen,
        });
        reallocate(program, actor);
        return get(program);
      })(),
  };
}
