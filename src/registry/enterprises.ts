import { sql } from 'kysely';
import { AppError, badRequest } from '../errors.js';
import { toShanghaiIso } from '../time/shanghai.js';
import type { Actor, RegistryContext } from './context.js';
import { creditCodeProblem } from './credit-code.js';
import { newId } from './ids.js';
import { decodeCursor, pageLimit, toPage, type Page, type PageRequest } from './pagination.js';

export interface CityRef {
  name: string;
  code: string;
}

/** A voucher the enterprise received in an earlier cycle (说明4: no repeats, prior years count). */
export interface PriorVoucher {
  catalogId: number;
  year: number;
  /** For a voucher of the same program year: counted against the enterprise cap (说明3). */
  voucherFen: number;
  /** Only a paid voucher blocks a repeat (说明4 "并获得相关财政补贴"). */
  paid: boolean;
}

export interface Enterprise {
  id: string;
  name: string;
  /** 统一社会信用代码, GB 32100-2015, check digit verified. */
  creditCode: string;
  city: CityRef;
  /** 特色产业集群数字化转型试点 (37号 §四: 80% rate; §一: priority in admission). */
  clusterPilot: boolean;
  priorVouchers: PriorVoucher[];
  createdAt: string;
}

export interface EnterpriseInput {
  name: string;
  creditCode: string;
  /** City name (`佛山`, `佛山市`) or GB/T 2260 code (`440600`). */
  city: string;
  clusterPilot: boolean;
  priorVouchers?: PriorVoucher[];
}

export interface Enterprises {
  create(input: EnterpriseInput, actor: Actor): Promise<Enterprise>;
  get(id: string): Promise<Enterprise | undefined>;
  getByCreditCode(creditCode: string): Promise<Enterprise | undefined>;
  page(page?: PageRequest): Promise<Page<Enterprise>>;
}

interface EnterpriseRow {
  rowid: number;
  id: string;
  name: string;
  credit_code: string;
  city_code: string;
  city_name: string;
  cluster_pilot: number;
  prior_vouchers: string;
  created_at: number;
}

function fromRow(row: EnterpriseRow): Enterprise {
  return {
    id: row.id,
    name: row.name,
    creditCode: row.credit_code,
    city: { name: row.city_name, code: row.city_code },
    clusterPilot: row.cluster_pilot === 1,
    priorVouchers: JSON.parse(row.prior_vouchers) as PriorVoucher[],
    createdAt: toShanghaiIso(row.created_at),
  };
}

const ENTERPRISE_COLUMNS = sql.raw('rowid, id, name, credit_code, city_code, city_name, cluster_pilot, prior_vouchers, created_at');

export function createEnterprises(ctx: RegistryContext): Enterprises {
  const { sql: db, clock, audit, engine } = ctx;

  const get = async (id: string): Promise<Enterprise | undefined> => {
    const row = await db.one<EnterpriseRow>(sql`SELECT ${ENTERPRISE_COLUMNS} FROM enterprises WHERE id = ${id}`);
    return row && fromRow(row);
  };
  const getByCreditCode = async (code: string): Promise<Enterprise | undefined> => {
    const row = await db.one<EnterpriseRow>(sql`SELECT ${ENTERPRISE_COLUMNS} FROM enterprises WHERE credit_code = ${code}`);
    return row && fromRow(row);
  };

  return {
    create: async (input, actor) => {
      const creditCode = input.creditCode.trim().toUpperCase();
      const problem = creditCodeProblem(creditCode);
      if (problem) {
        throw badRequest('GW_ERR_REGISTRY_CREDIT_CODE', `invalid 统一社会信用代码: ${problem}`, [
          { path: 'body.creditCode', message: problem },
        ]);
      }
      const city = engine.resolveCity(input.city);
      if (!city) {
        throw badRequest('GW_ERR_REGISTRY_UNKNOWN_CITY', `unknown city ${input.city}`, [
          { path: 'body.city', message: `not a Guangdong prefecture-level city name or GB/T 2260 code: ${input.city}` },
        ]);
      }
      const priorVouchers = input.priorVouchers ?? [];
      return db.transaction(async () => {
        const existing = await getByCreditCode(creditCode);
        if (existing) {
          throw new AppError('GW_ERR_REGISTRY_DUPLICATE_CREDIT_CODE', `an enterprise with credit code ${creditCode} exists: ${existing.id}`);
        }
        const id = newId('ent');
        await db.run(sql`INSERT INTO enterprises (id, name, credit_code, city_code, city_name, cluster_pilot, prior_vouchers, created_at)
          VALUES (${id}, ${input.name}, ${creditCode}, ${city.code}, ${city.name}, ${input.clusterPilot ? 1 : 0}, ${JSON.stringify(priorVouchers)}, ${clock.now()})`);
        await audit.append(actor, 'enterprise.create', id, {
          name: input.name,
          creditCode,
          city,
          clusterPilot: input.clusterPilot,
          priorVouchers,
        });
        return (await get(id))!;
      });
    },
    get,
    getByCreditCode,
    async page(request) {
      const limit = pageLimit(request);
      const rows = await db.all<EnterpriseRow>(
        sql`SELECT ${ENTERPRISE_COLUMNS} FROM enterprises WHERE rowid > ${decodeCursor(request?.cursor)} ORDER BY rowid LIMIT ${limit + 1}`,
      );
      return toPage(rows, limit, fromRow);
    },
  };
}
