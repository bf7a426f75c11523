import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/clock.js';
import { startTestGateway, TEST_ADMIN_KEY, type TestGateway } from '../../support/gateway.js';
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

describe('API keys (point 5)', () => {
  it('refuses to revoke the last live admin key (409), and revokes an admin key while another is left', async () => {
    const keys = await gw.json<{ items: { id: string; role: string; revokedAt: string | null }[] }>('/v1/api-keys');
    const bootstrap = keys.items.find((k) => k.role === 'admin' && k.revokedAt === null)!;
    const last = await gw.api(`/v1/api-keys/${bootstrap.id}`, { method: 'DELETE' });
    expect(last.status).toBe(409);
    expect(await last.json()).toMatchObject({ code: 'GW_ERR_REGISTRY_LAST_ADMIN_KEY' });
    expect((await gw.api('/v1/me')).status).toBe(200);

    const second = await gw.json<{ id: string; key: string }>('/v1/api-keys', { body: { role: 'admin' } });
    expect((await gw.api(`/v1/api-keys/${second.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await gw.api('/v1/me', { key: second.key })).status).toBe(401);
  });

  it('issues keys with an optional expiry that /v1/me and the key list show; an expired key is 401', async () => {
    const now = gw.clock.now();
    const expiresAt = new Date(now + 3_600_000).toISOString();
    const issued = await gw.json<{ id: string; key: string; expiresAt: string | null }>('/v1/api-keys', { body: { role: 'reviewer', expiresAt } });
    expect(Date.parse(issued.expiresAt!)).toBe(Date.parse(expiresAt));
    const me = await gw.json('/v1/me', { key: issued.key });
    expect(Date.parse(me.expiresAt)).toBe(Date.parse(expiresAt));
    expect((await gw.json('/v1/me')).expiresAt).toBeNull();
    const listed = (await gw.json<{ items: { id: string; expiresAt: string | null }[] }>('/v1/api-keys?limit=1000')).items.find((k) => k.id === issued.id);
    expect(Date.parse(listed!.expiresAt!)).toBe(Date.parse(expiresAt));

    (gw.clock as VirtualClock).advance(3_600_000);
    const expired = await gw.api('/v1/me', { key: issued.key });
    expect(expired.status).toBe(401);
    expect((await expired.json()).detail).toMatch(/expired/);
    (gw.clock as VirtualClock).set(now);
  });

  it('refuses an expiry that is not in the future', async () => {
    const res = await gw.api('/v1/api-keys', { body: { role: 'reviewer', expiresAt: new Date(gw.clock.now() - 1000).toISOString() } });
    expect(res.status).toBe(400);
    expect(JSON.stringify((await res.json()).errors)).toContain('body.expiresAt');
  });

  it('refuses to start with a configured GATEWAY_ADMIN_KEY that was revoked, saying how to recover', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gw-revoked-admin-'));
    try {
      const first = await startTestGateway({ dataDir });
      const other = await first.json<{ id: string; key: string }>('/v1/api-keys', { body: { role: 'admin' } });
      const bootstrapId = (await first.json('/v1/me')).keyId as string;
      expect((await first.api(`/v1/api-keys/${bootstrapId}`, { method: 'DELETE', key: other.key })).status).toBe(204);
      await first.close();

      await expect(startTestGateway({ dataDir })).rejects.toThrow(new RegExp(`GATEWAY_ADMIN_KEY.*${bootstrapId}.*revoked.*new value`, 's'));
      // The revoked key stays revoked; the other admin key is untouched; a new value recovers.
      const recovered = await startTestGateway({ dataDir, env: { GATEWAY_ADMIN_KEY: 'a-brand-new-admin-key-0123456789' } });
      expect((await recovered.api('/v1/me', { key: TEST_ADMIN_KEY })).status).toBe(401);
      expect((await recovered.api('/v1/me', { key: other.key })).status).toBe(200);
      expect((await recovered.api('/v1/me', { key: 'a-brand-new-admin-key-0123456789' })).status).toBe(200);
      const audit = await recovered.json('/v1/audit?limit=1000', { key: other.key });
      expect(audit.items.map((e: { action: string }) => e.action)).not.toContain('api-key.reinstate');
      await recovered.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
