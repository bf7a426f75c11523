import type { City, Program, SupplierKind } from './program-schema.js';
import type { Allocation, AllocationApplication, AllocationEntry, QuotasInput } from './schemas.js';
import { CLAUSES, reason, type Reason } from './reasons.js';
import { param } from './explain.js';
import { formatYuan } from './money.js';
import { cityIndex, getCatalogItem } from './lookup.js';
import { parseInstant } from './time.js';

/**
 * allocate(): admits many vouchers (several enterprises and suppliers) against city and
 * supplier quotas (37号 §三, SPEC rule 7).
 *
 * Processing order: cluster pilots first (37号 §一 "集群试点享受服务券优先申领和结算"), then
 * submittedAt, then id (code-unit order, locale-independent). An application is admitted only
 * if the whole voucher fits both the city's and the supplier's remaining balance; otherwise it
 * is waitlisted, never reduced (SPEC 解释). With `strictQueue` off (default) a later, smaller
 * voucher may still fit after a larger one was waitlisted. One sort, then one pass: O(n log n).
 *
 * Each application is validated as evaluate() validates it, so allocation never admits what
 * evaluation would refuse: unknown or excluded city, unreadable time or one outside the
 * application window (§一(一)), non-positive voucher, and — when the application names its
 * catalog item — an unknown item or a voucher above its 奖补上限 or the enterprise cap
 * (说明3); each gets status `rejected`. An admitted entry carries its reason and clause like every other.
 */
export function allocate(
  program: Program,
  applications: readonly AllocationApplication[],
  quotas: QuotasInput = {},
): Allocation {
  const cities = cityIndex(program);
  const n = applications.length;
  const times = new Float64Array(n);
  const pilot = new Uint8Array(n);
  const pilotsFirst = program.interpretations.clusterPilotsFirst.value;
  for (let i = 0; i < n; i++) {
    const application = applications[i]!;
    const ms = parseInstant(application.submittedAt);
    times[i] = ms === null ? Number.POSITIVE_INFINITY : ms;
    pilot[i] = pilotsFirst && application.clusterPilot ? 1 : 0;
  }
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((a, b) => {
    if (pilot[a] !== pilot[b]) return pilot[b]! - pilot[a]!;
    if (times[a] !== times[b]) return times[a]! < times[b]! ? -1 : 1;
    const idA = applications[a]!.id;
    const idB = applications[b]!.id;
    return idA < idB ? -1 : idA > idB ? 1 : a - b;
  });

  // City balances: input override (by code or name) > program's per-city default > program default.
  const cityOverride = new Map<string, number | null>();
  for (const [key, value] of Object.entries(quotas.cities ?? {})) {
    const city = cities.get(key.trim().toLowerCase());
    if (city) cityOverride.set(city.code, value);
  }
  const cityBalance = new Map<string, { city: City; initial: number | null; remaining: number | null; admitted: number; blocked: boolean }>();
  const cityAccount = (city: City) => {
    let account = cityBalance.get(city.code);
    if (!account) {
      const initial = cityOverride.has(city.code)
        ? (cityOverride.get(city.code) ?? null)
        : (program.quotas.cityFen[city.code]?.value ?? program.quotas.cityDefaultFen.value);
      account = { city, initial, remaining: initial, admitted: 0, blocked: false };
      cityBalance.set(city.code, account);
    }
    return account;
  };
  for (const code of cityOverride.keys()) {
    const city = cities.get(code);
    if (city) cityAccount(city);
  }

  // Supplier balances: input override > initial quota by kind (37号 §三(二)); the kind of the
  // first application seen for a supplier decides its default.
  const supplierOverride = quotas.suppliers ?? {};
  const supplierBalance = new Map<string, { kind: SupplierKind | null; initial: number; remaining: number; admitted: number; blocked: boolean }>();
  const supplierAccount = (supplierId: string, kind: SupplierKind) => {
    let account = supplierBalance.get(supplierId);
    if (!account) {
      const override = Object.hasOwn(supplierOverride, supplierId) ? supplierOverride[supplierId] : undefined;
      // An unknown kind (schema-invalid input from a direct caller) gets no default quota.
      const initial = override ?? program.quotas.supplierByKind[kind]?.value ?? 0;
      account = { kind, initial, remaining: initial, admitted: 0, blocked: false };
      supplierBalance.set(supplierId, account);
    } else if (account.kind === null) {
      account.kind = kind;
    }
    return account;
  };
  for (const [supplierId, initial] of Object.entries(supplierOverride)) {
    supplierBalance.set(supplierId, { kind: null, initial, remaining: initial, admitted: 0, blocked: false });
  }

  // 37号 §一(一), both ends inclusive; parsed once, not per application.
  const windowFrom = parseInstant(program.windows.application.value.from) ?? Number.POSITIVE_INFINITY;
  const windowTo = parseInstant(program.windows.application.value.to) ?? Number.NEGATIVE_INFINITY;
  const strict = program.interpretations.strictQueue.value;
  const cityQuotaClause = program.quotas.cityDefaultFen.citation;
  const supplierClause = program.quotas.supplierByKind.platform.citation;
  const out: AllocationEntry[] = new Array(n);
  const totals = { admitted: 0, waitlisted: 0, rejected: 0, admittedFen: 0, waitlistedFen: 0 };

  for (let position = 0; position < n; position++) {
    const index = order[position]!;
    const application = applications[index]!;
    const clusterPilot = application.clusterPilot ?? false;
    const voucher = application.voucherFen;
    const city = cities.get(String(application.enterpriseCity).trim().toLowerCase()) ?? null;
    const supplier = supplierAccount(application.supplierId, application.supplierKind);
    const reasons: Reason[] = [];
    if (pilot[index] === 1) {
      reasons.push(reason('CLUSTER_PILOT_PRIORITY', program.interpretations.clusterPilotsFirst.citation, 'cluster pilot: processed before non-pilots'));
    }
    if (!city) {
      reasons.push(reason('CITY_UNKNOWN', CLAUSES.scope, `city "${application.enterpriseCity}" is not a city of program ${program.year}`));
    } else if (!city.eligible) {
      reasons.push(reason('CITY_EXCLUDED', city.citation, `${city.name} is excluded: ${city.ineligibleReason ?? ''}`));
    }
    if (times[index] === Number.POSITIVE_INFINITY) {
      reasons.push(reason('INVALID_TIMESTAMP', CLAUSES.timestamps, `submittedAt "${application.submittedAt}" is not an ISO-8601 instant with offset`));
    }
    else if (times[index]! < windowFrom || times[index]! > windowTo) {
      const window = program.windows.application;
      reasons.push(reason('OUTSIDE_APPLICATION_WINDOW', window.citation, `submittedAt ${application.submittedAt} is outside the application window ${window.value.from} – ${window.value.to} (inclusive)`));
    }
    if (!Number.isSafeInteger(voucher) || voucher <= 0) {
      reasons.push(reason('INVALID_VOUCHER_AMOUNT', CLAUSES.amount, `voucherFen ${voucher} is not a positive integer fen`));
    } else if (application.catalogId !== undefined) {
      const item = getCatalogItem(program, application.catalogId);
      if (!item) {
        reasons.push(reason('UNKNOWN_CATALOG_ITEM', CLAUSES.catalog, `unknown catalog item ${application.catalogId} in program ${program.year}`));
      } else if (voucher > item.capFen.value) {
        reasons.push(reason('VOUCHER_ABOVE_ITEM_CAP', item.capFen.citation, `voucher ${formatYuan(voucher)} exceeds the item's 奖补上限 ${formatYuan(item.capFen.value)}`));
      } else if (voucher > program.enterpriseCapFen.value) {
        reasons.push(reason('ENTERPRISE_CAP_EXCEEDED', program.enterpriseCapFen.citation, `voucher ${formatYuan(voucher)} exceeds the enterprise cap ${formatYuan(program.enterpriseCapFen.value)}`));
      }
    }
    const account = city && city.eligible ? cityAccount(city) : null;
    const cityBefore = account ? account.remaining : null;
    const supplierBefore = supplier.remaining;
    let status: AllocationEntry['status'];
    if (reasons.some((r) => r.effect === 'reject')) {
      status = 'rejected';
    } else {
      const cityFits = account!.remaining === null || voucher <= account!.remaining;
      const supplierFits = voucher <= supplier.remaining;
      if (strict && (account!.blocked || supplier.blocked)) {
        reasons.push(reason('QUEUE_BLOCKED', program.interpretations.strictQueue.citation, 'strict queue: an earlier application of this city or supplier is waitlisted'));
      }
      if (!cityFits) {
        reasons.push(
          reason('CITY_QUOTA_INSUFFICIENT', program.quotas.cityFen[city!.code]?.citation ?? cityQuotaClause, `${city!.name} quota balance ${formatYuan(account!.remaining ?? 0)} < voucher ${formatYuan(voucher)}`),
        );
      }
      if (!supplierFits) {
        reasons.push(
          reason('SUPPLIER_QUOTA_INSUFFICIENT', supplierClause, `supplier ${application.supplierId} quota balance ${formatYuan(supplier.remaining)} < voucher ${formatYuan(voucher)}`),
        );
      }
      if (reasons.some((r) => r.effect === 'waitlist')) {
        status = 'waitlisted';
        if (strict) {
          if (!cityFits) account!.blocked = true;
          if (!supplierFits) supplier.blocked = true;
        }
      } else {
        status = 'admitted';
        reasons.push(
          reason('QUOTA_ADMITTED', `${CLAUSES.order}; ${cityQuotaClause}; ${supplierClause}`, `admitted in position ${position + 1}: voucher ${formatYuan(voucher)} fits the ${city!.name} balance (${account!.remaining === null ? 'unlimited' : formatYuan(account!.remaining)}) and the supplier balance ${formatYuan(supplier.remaining)}`),
        );
        if (account!.remaining !== null) account!.remaining -= voucher;
        account!.admitted += voucher;
        supplier.remaining -= voucher;
        supplier.admitted += voucher;
      }
    }
    if (status === 'admitted') {
      totals.admitted++;
      totals.admittedFen += voucher;
    } else if (status === 'waitlisted') {
      totals.waitlisted++;
      totals.waitlistedFen += voucher;
    } else {
      totals.rejected++;
    }
    out[position] = {
      id: application.id,
      order: position + 1,
      status,
      clusterPilot,
      submittedAt: application.submittedAt,
      voucherFen: voucher,
      city: city ? { name: city.name, code: city.code } : null,
      supplierId: application.supplierId,
      supplierKind: application.supplierKind,
      cityBalanceBeforeFen: cityBefore,
      cityBalanceAfterFen: account ? account.remaining : null,
      supplierBalanceBeforeFen: supplierBefore,
      supplierBalanceAfterFen: supplier.remaining,
      reasons,
    };
  }

  const byKey = <T>(entries: [string, T][]) => entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    program: program.year,
    parameters: [
      param('interpretations.clusterPilotsFirst', program.interpretations.clusterPilotsFirst),
      param('interpretations.quotaOverflow', program.interpretations.quotaOverflow),
      param('interpretations.strictQueue', program.interpretations.strictQueue),
      param('quotas.supplierByKind.platform', program.quotas.supplierByKind.platform),
      param('quotas.supplierByKind.other', program.quotas.supplierByKind.other),
      param('quotas.cityDefaultFen', program.quotas.cityDefaultFen),
    ],
    applications: out,
    balances: {
      cities: byKey([...cityBalance.entries()]).map(([, account]) => ({
        city: { name: account.city.name, code: account.city.code },
        initialFen: account.initial,
        admittedFen: account.admitted,
        remainingFen: account.remaining,
      })),
      suppliers: byKey([...supplierBalance.entries()]).map(([supplierId, account]) => ({
        supplierId,
        kind: account.kind,
        initialFen: account.initial,
        admittedFen: account.admitted,
        remainingFen: account.remaining,
      })),
    },
    totals,
  };
}
