import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/clock.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { seedContract, type SeededContract } from '../../support/seed.js';

/**
 * What an outside probe of the running gateway found (issue 15), each replayed the way the
 * probe did it, through the real HTTP stack.
 */
let gw: TestGateway;
let seeded: SeededContract;
const HOSTILE_SERIALS = [`-2+3+cmd|' /C calc'!A0`, '-0x1+HYPERLINK("http://e")'];

beforeAll(async () => {
  gw = await startTestGateway({ clock: new VirtualClock('2020-10-20T09:00:00+08:00') });
  seeded = await seedContract(gw, { devices: 0, serials: [...HOSTILE_SERIALS, 'SN-ok-1'] });
});
afterAll(async () => gw?.close());

describe('CSV export (point 1)', () => {
  it('neutralises serials that start with - and a digit, as it does every formula prefix', async () => {
    const res = await gw.api(`/v1/contracts/${seeded.contractId}/verification`, { headers: { accept: 'text/csv' } });
    expect(res.status).toBe(200);
    const csv = await res.text();
    for (const serial of HOSTILE_SERIALS) {
      const quoted = `'${serial}`;
      expect(csv).toContain(/[",]/.test(quoted) ? `"${quoted.replaceAll('"', '""')}"` : quoted);
      expect(csv).not.toMatch(new RegExp(`(^|,)"?${serial.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replaceAll('"', '""')}`, 'm'));
    }
  });
});

/** Every place the API accepts an instant, with a request that carries it. */
const INSTANT_ROUTES: { name: string; request: (at: string) => { path: string; method?: string; body?: unknown } }[] = [
  { name: 'GET verification ?at=', request: (at) => ({ path: `/v1/contracts/${seeded.contractId}/verification?at=${encodeURIComponent(at)}` }) },
  { name: 'GET contracts ?at=', request: (at) => ({ path: `/v1/contracts?at=${encodeURIComponent(at)}` }) },
  { name: 'GET stats ?at=', request: (at) => ({ path: `/v1/stats?at=${encodeURIComponent(at)}` }) },
  {
    name: 'POST redemption at',
    request: (at) => ({ path: `/v1/contracts/${seeded.contractId}/redemption`, body: { at, invoiceAmountFen: 10_000_000, paidAmountFen: 10_000_000, acceptanceReport: true } }),
  },
  {
    name: 'POST contracts appliedAt',
    request: (at) => ({ path: '/v1/contracts', body: { enterpriseId: seeded.enterpriseId, supplierId: seeded.supplierId, catalogId: 5, contractAmountFen: 10_000_000, appliedAt: at, program: 2020 } }),
  },
  {
    name: 'POST rules/evaluate appliedAt',
    request: (at) => ({
      path: '/v1/rules/evaluate',
      body: { program: 2020, enterprise: { city: '佛山', clusterPilot: false, priorVouchers: [] }, applications: [{ catalogId: 6, contractAmountFen: 25_000_000, appliedAt: at, serviceProviders: 1, bigDataModels: 0, functionModules: 5 }] },
    }),
  },
  {
    name: 'POST rules/allocate submittedAt',
    request: (at) => ({
      path: '/v1/rules/allocate',
      body: { program: 2020, applications: [{ id: 'a', enterpriseCity: '440600', clusterPilot: false, supplierId: 'sup_a', supplierKind: 'other', voucherFen: 600, submittedAt: at }], quotas: { cities: { '440600': 1000 } } },
    }),
  },
];

describe('instants (point 4)', () => {
  const extremes = ['9999-12-31T23:59:59Z', '0001-01-01T00:00:00Z', '1970-01-01T00:00:00Z', '2100-01-01T00:00:00Z'];
  it.each(INSTANT_ROUTES.flatMap((r) => extremes.map((at) => [r.name, at, r] as const)))('%s %s → 400 naming the field and the range', async (_name, at, route) => {
    const { path, body } = route.request(at);
    const res = await gw.api(path, body === undefined ? {} : { body });
    expect(res.status).toBe(400);
    const problem = await res.json();
    expect(problem.code).toMatch(/^GW_ERR_API_INVALID_(QUERY|BODY)$/);
    expect(JSON.stringify(problem.errors)).toMatch(/2000-01-01.*2099-12-31/);
  });

  it.each(INSTANT_ROUTES)('$name accepts an instant inside the range', async (route) => {
    const { path, body } = route.request('2020-10-20T09:00:00+08:00');
    const res = await gw.api(path, body === undefined ? {} : { body });
    expect(res.status, await res.text()).toBeLessThan(300);
  });
});
