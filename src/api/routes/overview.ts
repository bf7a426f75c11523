import { z } from 'zod';
import { boundedInstant } from '../../time/instant.js';
import type { Clock } from '../../clock.js';
import { supplierScope, type Contract, type Registry } from '../../registry/index.js';
import { registrySchemas as rs } from '../../registry/index.js';
import { getCatalogItem, getProgram, resolveCity } from '../../rules/index.js';
import type { VerificationService } from '../../services/index.js';
import { toShanghaiIso } from '../../time/shanghai.js';
import type { VerificationReport } from '../../verifier/index.js';
import { routesWith, type Principal } from '../route.js';

export interface OverviewRouteDeps {
  clock: Clock;
  registry: Registry;
  verification: VerificationService;
  contractOwner(contractId: string): Promise<{ supplierId: string } | undefined>;
}

const route = routesWith<OverviewRouteDeps>();
const instant = boundedInstant();

const verificationSummarySchema = z
  .object({
    at: z.string(),
    requiredDevices: z.number().int().nullable(),
    registeredDevices: z.number().int(),
    activeDevices: z.number().int(),
    passed: z.boolean().nullable(),
    signalCount: z.number().int(),
  })
  .meta({ id: 'VerificationSummary' });

const contractOverviewSchema = rs.contractSchema
  .extend({
    enterprise: z.object({ id: z.string(), name: z.string(), city: z.object({ name: z.string(), code: z.string() }) }),
    supplier: z.object({ id: z.string(), name: z.string() }),
    catalogName: z.string(),
    verification: verificationSummarySchema,
  })
  .meta({ id: 'ContractOverview' });

const overviewQuery = z.object({
  at: instant.optional().describe('verification time; defaults to now'),
  verification: z.enum(['passed', 'failed', 'no-threshold']).optional().describe('verification outcome at `at`'),
  status: z.enum(['admitted', 'waitlisted', 'rejected']).optional().describe('allocation status'),
  city: z.string().min(1).max(20).optional().describe('enterprise city, name or GB/T 2260 code'),
  catalogId: z.coerce.number().int().min(1).optional(),
  enterpriseId: z.string().max(64).optional(),
  supplierId: z.string().max(64).optional(),
  program: z.coerce.number().int().min(2000).max(2100).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional().describe('page size, default 100'),
  cursor: z.string().regex(/^\d{1,9}$/, 'cursor must come from nextCursor').optional(),
});

/** Contracts the principal may see, filtered by registry fields (the cheap part). */
async function visibleContracts(registry: Registry, principal: Principal, q: z.infer<typeof overviewQuery>): Promise<Contract[]> {
  const scope = supplierScope(principal);
  if (scope !== undefined && q.supplierId !== undefined && q.supplierId !== scope) return [];
  const supplierId = scope ?? q.supplierId;
  const contracts = await registry.contracts.list({
    ...(q.enterpriseId !== undefined ? { enterpriseId: q.enterpriseId } : {}),
    ...(supplierId !== undefined ? { supplierId } : {}),
    ...(q.program !== undefined ? { program: q.program } : {}),
    ...(q.status !== undefined ? { status: q.status } : {}),
  });
  const cityCode = q.city === undefined ? undefined : (resolveCity(getProgram(q.program ?? 2020)!, q.city)?.code ?? '-');
  const byCatalog = contracts.filter((c) => q.catalogId === undefined || c.catalogId === q.catalogId);
  if (cityCode === undefined) return byCatalog;
  const cityOf = new Map<string, string | undefined>();
  for (const enterpriseId of new Set(byCatalog.map((c) => c.enterpriseId))) {
    cityOf.set(enterpriseId, (await registry.enterprises.get(enterpriseId))?.city.code);
  }
  return byCatalog.filter((c) => cityOf.get(c.enterpriseId) === cityCode);
}

function summary(report: VerificationReport) {
  return {
    at: report.at,
    requiredDevices: report.requiredDevices,
    registeredDevices: report.registeredDevices,
    activeDevices: report.activeDevices,
    passed: report.passed,
    signalCount: Object.values(report.signalCounts).reduce((a, b) => a + b, 0),
  };
}

function outcome(passed: boolean | null): 'passed' | 'failed' | 'no-threshold' {
  return passed === null ? 'no-threshold' : passed ? 'passed' : 'failed';
}

export const overviewRoutes = [
  route({
    method: 'get',
    path: '/v1/contracts',
    summary: 'Contracts a key may see, each with required vs active devices at `at` (a supplier key sees only its own)',
    tags: ['verification'],
    auth: ['admin', 'reviewer', 'supplier'],
    query: overviewQuery,
    responses: {
      200: {
        description: 'one page; nextCursor is null on the last page',
        schema: z.object({ items: z.array(contractOverviewSchema), nextCursor: z.string().nullable(), total: z.number().int() }),
      },
    },
    async handler({ query, principal, deps }) {
      const at = query.at ? Date.parse(query.at) : deps.clock.now();
      let contracts = await visibleContracts(deps.registry, principal!, query);
      const reports = new Map<string, VerificationReport>();
      const reportOf = async (c: Contract) => {
        let r = reports.get(c.id);
        if (!r) reports.set(c.id, (r = (await deps.verification.verify(c.id, at))!));
        return r;
      };
      if (query.verification !== undefined) {
        const kept: Contract[] = [];
        for (const c of contracts) if (outcome((await reportOf(c)).passed) === query.verification) kept.push(c);
        contracts = kept;
      }
      const offset = query.cursor === undefined ? 0 : Number(query.cursor);
      const limit = query.limit ?? 100;
      const pageItems = contracts.slice(offset, offset + limit);
      const items = [];
      for (const c of pageItems) {
        const enterprise = (await deps.registry.enterprises.get(c.enterpriseId))!;
        const supplier = (await deps.registry.suppliers.get(c.supplierId))!;
        const item = getCatalogItem(getProgram(c.program)!, c.catalogId);
        items.push({
          ...c,
          enterprise: { id: enterprise.id, name: enterprise.name, city: enterprise.city },
          supplier: { id: supplier.id, name: supplier.name },
          catalogName: item?.name.zh ?? String(c.catalogId),
          verification: summary(await reportOf(c)),
        });
      }
      const next = offset + limit < contracts.length ? String(offset + limit) : null;
      return { status: 200, body: { items, nextCursor: next, total: contracts.length } };
    },
  }),
  route({
    method: 'get',
    path: '/v1/stats',
    summary: 'Summary bar: contracts passing, devices online today (Asia/Shanghai), for the contracts a key may see',
    tags: ['verification'],
    auth: ['admin', 'reviewer', 'supplier'],
    query: z.object({ at: instant.optional() }),
    responses: {
      200: {
        description: 'counts',
        schema: z
          .object({
            at: z.string(),
            contracts: z.number().int(),
            contractsWithThreshold: z.number().int(),
            passing: z.number().int(),
            failing: z.number().int(),
            registeredDevices: z.number().int(),
            activeDevices: z.number().int(),
            devicesOnlineToday: z.number().int(),
          })
          .meta({ id: 'Stats' }),
      },
    },
    async handler({ query, principal, deps }) {
      const at = query.at ? Date.parse(query.at) : deps.clock.now();
      const contracts = await visibleContracts(deps.registry, principal!, {});
      const stats = { at: toShanghaiIso(at), contracts: contracts.length, contractsWithThreshold: 0, passing: 0, failing: 0, registeredDevices: 0, activeDevices: 0, devicesOnlineToday: 0 };
      // "online at all today" is the policy what-if windowDays=1, minActiveDays=1, minOnlineMinutes=1.
      const today = { windowDays: 1, minActiveDays: 1, minOnlineMinutes: 1 };
      for (const c of contracts) {
        const report = (await deps.verification.verify(c.id, at))!;
        stats.registeredDevices += report.registeredDevices;
        stats.activeDevices += report.activeDevices;
        if (report.passed !== null) {
          stats.contractsWithThreshold++;
          if (report.passed) stats.passing++;
          else stats.failing++;
        }
        stats.devicesOnlineToday += (await deps.verification.verify(c.id, at, today))!.devices.filter((d) => d.active).length;
      }
      return { status: 200, body: stats };
    },
  }),
];
