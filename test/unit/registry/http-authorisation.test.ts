/**
 * Every registry route × every kind of caller, with the expected status. Supplier keys see only
 * their own supplier, contracts and devices; another supplier's are 404, not 403.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { overviewRoutes } from '../../../src/api/routes/overview.js';
import { redemptionRoutes } from '../../../src/api/routes/redemption.js';
import { registryRoutes } from '../../../src/api/routes/registry.js';
import { verificationRoutes } from '../../../src/api/routes/verification.js';
import { buildCreditCode, buildEnterprise } from './fixtures.js';
import { startRegistryServer, type RegistryServer } from './http-fixture.js';

type Caller = 'admin' | 'reviewer' | 'ownSupplier' | 'otherSupplier' | 'noKey' | 'badKey';
const CALLERS: Caller[] = ['admin', 'reviewer', 'ownSupplier', 'otherSupplier', 'noKey', 'badKey'];

let srv: RegistryServer;
let keys: Record<Caller, string | null>;
let ids: { supplier: string; otherSupplier: string; enterprise: string; contract: string; device: string };
let serialSeq = 0;

beforeAll(async () => {
  srv = await startRegistryServer();
  const r = srv.registry;
  const admin = (await r.apiKeys.bootstrapAdmin()).key!;
  const supplier = await r.suppliers.create({ name: 'Own', kind: 'platform' }, 'test');
  const otherSupplier = await r.suppliers.create({ name: 'Other', kind: 'other' }, 'test');
  const enterprise = await r.enterprises.create(buildEnterprise(), 'test');
  const contract = await r.contracts.create(
    {
      enterpriseId: enterprise.id,
      supplierId: supplier.id,
      program: 2020,
      catalogId: 5,
      contractAmountFen: 10_000_000,
      appliedAt: '2020-06-01T10:00:00+08:00',
    },
    'test',
  );
  const [device] = await r.devices.register(contract.id, [{ serial: 'OWN-0' }], 'test');
  ids = { supplier: supplier.id, otherSupplier: otherSupplier.id, enterprise: enterprise.id, contract: contract.id, device: device!.id };
  keys = {
    admin,
    reviewer: (await r.apiKeys.create({ role: "reviewer" }, "test")).key,
    ownSupplier: (await r.apiKeys.create({ role: 'supplier', supplierId: supplier.id }, 'test')).key,
    otherSupplier: (await r.apiKeys.create({ role: 'supplier', supplierId: otherSupplier.id }, 'test')).key,
    noKey: null,
    badKey: 'gk_this-key-was-never-issued-0000000000000000',
  };
});
afterAll(() => srv.close());

interface Row {
  method: string;
  /** OpenAPI path, so the table can be checked against registryRoutes. */
  route: string;
  path: () => string | Promise<string>;
  body?: () => unknown;
  expect: Record<Caller, number>;
}

const writeAdmin = { admin: 0, reviewer: 403, ownSupplier: 403, otherSupplier: 403, noKey: 401, badKey: 401 };
const readAll = { admin: 200, reviewer: 200, ownSupplier: 200, otherSupplier: 200, noKey: 401, badKey: 401 };
const readStaff = { admin: 200, reviewer: 200, ownSupplier: 403, otherSupplier: 403, noKey: 401, badKey: 401 };
const readOwn = { admin: 200, reviewer: 200, ownSupplier: 200, otherSupplier: 404, noKey: 401, badKey: 401 };
const writeOwn = (ok: number) => ({ admin: ok, reviewer: 403, ownSupplier: ok, otherSupplier: 404, noKey: 401, badKey: 401 });

const ROWS: Row[] = [
  { method: 'POST', route: '/v1/suppliers', path: () => '/v1/suppliers', body: () => ({ name: 'New', kind: 'other' }), expect: { ...writeAdmin, admin: 201 } },
  { method: 'GET', route: '/v1/suppliers', path: () => '/v1/suppliers', expect: readAll },
  { method: 'GET', route: '/v1/suppliers/{id}', path: () => `/v1/suppliers/${ids.supplier}`, expect: readOwn },
  { method: 'PUT', route: '/v1/suppliers/{id}/quota', path: () => `/v1/suppliers/${ids.supplier}/quota`, body: () => ({ quotaFen: 900_000_000 }), expect: { ...writeAdmin, admin: 200 } },
  { method: 'POST', route: '/v1/enterprises', path: () => '/v1/enterprises', body: () => buildEnterprise({ creditCode: buildCreditCode() }), expect: { ...writeAdmin, admin: 201 } },
  { method: 'GET', route: '/v1/enterprises', path: () => '/v1/enterprises', expect: readStaff },
  { method: 'GET', route: '/v1/enterprises/{id}', path: () => `/v1/enterprises/${ids.enterprise}`, expect: readStaff },
  {
    method: 'POST',
    route: '/v1/contracts',
    path: () => '/v1/contracts',
    body: () => ({ enterpriseId: ids.enterprise, supplierId: ids.supplier, program: 2020, catalogId: 12, contractAmountFen: 1_000_000, appliedAt: '2020-06-05T10:00:00+08:00' }),
    expect: { ...writeAdmin, admin: 201 },
  },
  { method: 'GET', route: '/v1/contracts', path: () => '/v1/contracts', expect: readAll },
  { method: 'GET', route: '/v1/contracts/{id}', path: () => `/v1/contracts/${ids.contract}`, expect: readOwn },
  {
    method: 'POST',
    route: '/v1/contracts/{id}/devices',
    path: () => `/v1/contracts/${ids.contract}/devices`,
    body: () => ({ devices: [{ serial: `M-${++serialSeq}` }] }),
    expect: writeOwn(201),
  },
  { method: 'GET', route: '/v1/contracts/{id}/devices', path: () => `/v1/contracts/${ids.contract}/devices`, expect: readOwn },
  { method: 'GET', route: '/v1/devices/{id}', path: () => `/v1/devices/${ids.device}`, expect: readOwn },
  { method: 'PATCH', route: '/v1/devices/{id}', path: () => `/v1/devices/${ids.device}`, body: () => ({ enabled: true }), expect: writeOwn(200) },
  { method: 'POST', route: '/v1/devices/{id}/token', path: () => `/v1/devices/${ids.device}/token`, expect: writeOwn(200) },
  { method: 'GET', route: '/v1/programs/{year}/quotas', path: () => '/v1/programs/2020/quotas', expect: readStaff },
  {
    method: 'PUT',
    route: '/v1/programs/{year}/quotas/cities/{code}',
    path: () => '/v1/programs/2020/quotas/cities/440600',
    body: () => ({ quotaFen: null }),
    expect: { ...writeAdmin, admin: 200 },
  },
  { method: 'POST', route: '/v1/api-keys', path: () => '/v1/api-keys', body: () => ({ role: 'reviewer' }), expect: { ...writeAdmin, admin: 201 } },
  { method: 'GET', route: '/v1/api-keys', path: () => '/v1/api-keys', expect: { ...writeAdmin, admin: 200 } },
  {
    method: 'DELETE',
    route: '/v1/api-keys/{id}',
    path: async () => `/v1/api-keys/${(await srv.registry.apiKeys.create({ role: 'reviewer' }, 'test')).id}`,
    expect: { ...writeAdmin, admin: 204 },
  },
  { method: 'GET', route: '/v1/audit', path: () => '/v1/audit', expect: readStaff },
  { method: 'GET', route: '/v1/contracts/{id}/verification', path: () => `/v1/contracts/${ids.contract}/verification`, expect: readOwn },
  { method: 'GET', route: '/v1/stats', path: () => '/v1/stats', expect: readAll },
  {
    method: 'POST',
    route: '/v1/contracts/{id}/redemption',
    path: () => `/v1/contracts/${ids.contract}/redemption`,
    body: () => ({ at: '2020-12-01T10:00:00+08:00', invoiceAmountFen: 1, paidAmountFen: 1, acceptanceReport: true }),
    expect: { admin: 200, reviewer: 200, ownSupplier: 403, otherSupplier: 403, noKey: 401, badKey: 401 },
  },
  // The money path: the admin's application is the contract's one open application, so later callers conflict.
  {
    method: 'POST',
    route: '/v1/contracts/{id}/redemption-applications',
    path: () => `/v1/contracts/${ids.contract}/redemption-applications`,
    body: () => ({
      invoiceNumber: 'INV-1',
      invoiceAmountFen: 10_000_000,
      invoiceDate: '2020-07-01',
      paymentProofAmountFen: 10_000_000,
      paymentDate: '2020-07-02',
      paidAmountFen: 10_000_000,
      acceptanceReport: true,
      contractSignedAt: '2020-06-01',
    }),
    expect: { admin: 201, reviewer: 409, ownSupplier: 409, otherSupplier: 404, noKey: 401, badKey: 401 },
  },
  { method: 'GET', route: '/v1/redemption-applications', path: () => '/v1/redemption-applications', expect: readAll },
  { method: 'GET', route: '/v1/redemption-applications/{id}', path: () => '/v1/redemption-applications/1', expect: readOwn },
  {
    method: 'POST',
    route: '/v1/redemption-applications/{id}/acknowledgements',
    path: () => '/v1/redemption-applications/1/acknowledgements',
    body: () => ({ signal: 'LOCKSTEP', note: 'one gateway polls all machines at once' }),
    expect: { ...writeAdmin, admin: 201, reviewer: 201 },
  },
  {
    method: 'POST',
    route: '/v1/redemption-applications/{id}/decision',
    path: () => '/v1/redemption-applications/1/decision',
    body: () => ({ decision: 'rejected', reason: 'no device reported' }),
    expect: { ...writeAdmin, admin: 200, reviewer: 409 },
  },
  {
    method: 'POST',
    route: '/v1/redemption-applications/{id}/withdrawal',
    path: () => '/v1/redemption-applications/1/withdrawal',
    expect: { admin: 409, reviewer: 403, ownSupplier: 409, otherSupplier: 404, noKey: 401, badKey: 401 },
  },
  { method: 'POST', route: '/v1/devices/{id}/exclusion', path: () => `/v1/devices/${ids.device}/exclusion`, body: () => ({ reason: 'not at the site' }), expect: { ...writeAdmin, admin: 201, reviewer: 201 } },
  { method: 'POST', route: '/v1/devices/{id}/inclusion', path: () => `/v1/devices/${ids.device}/inclusion`, body: () => ({ reason: 'found' }), expect: { ...writeAdmin, admin: 204, reviewer: 204 } },
  { method: 'GET', route: '/v1/duplicate-serials', path: () => '/v1/duplicate-serials', expect: readStaff },
  {
    method: 'PUT',
    route: '/v1/duplicate-serials/{serial}/assignment',
    path: () => '/v1/duplicate-serials/OWN-0/assignment',
    body: () => ({ contractId: ids.contract, reason: 'not duplicated' }),
    expect: { ...writeAdmin, admin: 404, reviewer: 404 },
  },
  { method: 'GET', route: '/v1/settlements/queue', path: () => '/v1/settlements/queue', expect: readStaff },
  { method: 'POST', route: '/v1/settlements', path: () => '/v1/settlements', body: () => ({}), expect: { ...writeAdmin, admin: 409 } },
  { method: 'GET', route: '/v1/settlements', path: () => '/v1/settlements', expect: readStaff },
  { method: 'GET', route: '/v1/settlements/{id}', path: () => '/v1/settlements/1', expect: { ...readStaff, admin: 404, reviewer: 404 } },
  { method: 'GET', route: '/v1/settlements/{id}/csv', path: () => '/v1/settlements/1/csv', expect: { ...readStaff, admin: 404, reviewer: 404 } },
  { method: 'POST', route: '/v1/spot-checks', path: () => '/v1/spot-checks', body: () => ({ count: 1, seed: 's' }), expect: { ...readStaff, admin: 201, reviewer: 201 } },
  { method: 'GET', route: '/v1/spot-checks', path: () => '/v1/spot-checks', expect: readStaff },
  { method: 'GET', route: '/v1/spot-checks/{id}', path: () => '/v1/spot-checks/1', expect: readStaff },
  {
    method: 'PUT',
    route: '/v1/spot-checks/{id}/outcomes/{applicationId}',
    path: () => '/v1/spot-checks/1/outcomes/1',
    body: () => ({ outcome: 'ok' }),
    expect: { ...readStaff, admin: 404, reviewer: 404 },
  },
  { method: 'GET', route: '/v1/recoveries', path: () => '/v1/recoveries', expect: readStaff },
  {
    method: 'POST',
    route: '/v1/suppliers/{id}/quota-adjustments',
    path: () => `/v1/suppliers/${ids.supplier}/quota-adjustments`,
    body: () => ({ quotaFen: 1, reason: 'r', cite: [{ spotCheckId: 1, applicationId: 1 }] }),
    expect: { ...writeAdmin, admin: 400 },
  },
  { method: 'GET', route: '/v1/suppliers/{id}/quota-adjustments', path: () => `/v1/suppliers/${ids.supplier}/quota-adjustments`, expect: readStaff },
];

describe('registry API authorisation matrix', () => {
  it('covers every registry, contract-list and verification route', () => {
    const covered = new Set(ROWS.map((r) => `${r.method} ${r.route}`));
    const all = [...registryRoutes, ...overviewRoutes, ...verificationRoutes, ...redemptionRoutes].map((r) => `${r.method.toUpperCase()} ${r.path}`);
    expect(all.filter((r) => !covered.has(r))).toEqual([]);
  });

  const cases = ROWS.flatMap((row) => CALLERS.map((caller) => ({ row, caller, status: row.expect[caller] })));
  it.each(cases.map((c) => [`${c.row.method} ${c.row.route}`, c.caller, c.status, c] as const))(
    '%s as %s → %i',
    async (_name, caller, status, { row }) => {
      const res = await srv.request(row.method, await row.path(), { key: keys[caller], ...(row.body ? { body: row.body() } : {}) });
      const text = await res.text();
      expect(res.status, text).toBe(status);
      if (status >= 400) expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    },
  );
});

describe('what a supplier key sees', () => {
  it("lists only its own contracts, and nothing when it asks for another supplier's", async () => {
    const own = await (await srv.request('GET', '/v1/contracts', { key: keys.ownSupplier })).json();
    expect(own.items.length).toBeGreaterThan(0);
    expect(own.items.every((c: { supplierId: string }) => c.supplierId === ids.supplier)).toBe(true);

    const other = await (await srv.request('GET', '/v1/contracts', { key: keys.otherSupplier })).json();
    expect(other.items).toEqual([]);
    const asking = await (await srv.request('GET', `/v1/contracts?supplierId=${ids.supplier}`, { key: keys.otherSupplier })).json();
    expect(asking.items).toEqual([]);
  });

  it('lists only its own supplier', async () => {
    const page = await (await srv.request('GET', '/v1/suppliers', { key: keys.otherSupplier })).json();
    expect(page.items.map((s: { id: string }) => s.id)).toEqual([ids.otherSupplier]);
  });

  it('cannot tell a contract of another supplier from one that does not exist', async () => {
    const hidden = await srv.request('GET', `/v1/contracts/${ids.contract}`, { key: keys.otherSupplier });
    const missing = await srv.request('GET', '/v1/contracts/ctr_aaaaaaaaaaaa', { key: keys.otherSupplier });
    expect(hidden.status).toBe(404);
    expect(missing.status).toBe(404);
    const a = await hidden.json();
    const b = await missing.json();
    expect({ ...a, detail: undefined }).toEqual({ ...b, detail: undefined });
  });
});
