import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/api/app.js';
import { rulesRoutes } from '../../../src/api/routes/rules.js';
import { silentLogger } from '../../../src/log.js';

const KEY = 'rules-test-key-0123456789';
let server: Server;
let base: string;

beforeAll(async () => {
  const app = buildApp({
    routes: rulesRoutes,
    deps: {},
    authenticate: async (k) => (k === KEY ? { keyId: 'k1', role: 'reviewer' } : undefined),
    log: silentLogger,
  });
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function post(path: string, body: string, headers: Record<string, string> = {}) {
  return fetch(base + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...headers },
    body,
  });
}

const valid = {
  program: 2020,
  enterprise: { city: '佛山', clusterPilot: false, priorVouchers: [{ catalogId: 20, year: 2019, voucherFen: 100_000, paid: true }] },
  applications: [{ catalogId: 6, contractAmountFen: 25_000_000, appliedAt: '2020-06-01T10:00:00+08:00', serviceProviders: 1, bigDataModels: 0, functionModules: 5 }],
};

async function problem(res: Response) {
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  return (await res.json()) as { type: string; title: string; status: number; detail: string; errors?: { path: string; message: string }[] };
}

describe('POST /v1/rules/evaluate through the HTTP stack', () => {
  it('answers the API.md example: 70% of 250,000 yuan for 生产协同 I in 佛山', async () => {
    const res = await post('/v1/rules/evaluate', JSON.stringify(valid));
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.enterprise).toMatchObject({ eligible: true, city: { name: '佛山市', code: '440600' }, region: 'pearl-river-delta', ratePercent: 70 });
    expect(body.applications[0]).toMatchObject({ catalogId: 6, decision: 'approved', voucherFen: 17_500_000, requiredDevices: null });
    expect(body.totalVoucherFen).toBe(17_500_000);
    expect(body.applications[0].reasons.some((r: { clause: string }) => r.clause.includes('§四'))).toBe(true);
  });

  it('rejects malformed JSON with a problem naming the body', async () => {
    const res = await post('/v1/rules/evaluate', '{"program": 2020,');
    expect(res.status).toBe(400);
    const p = await problem(res);
    expect(p.type).toBe('urn:gateway:error:GW_ERR_API_MALFORMED_JSON');
    expect(p.errors).toEqual([{ path: 'body', message: 'malformed JSON' }]);
  });

  it('names the field with the wrong type', async () => {
    const res = await post('/v1/rules/evaluate', JSON.stringify({ ...valid, applications: [{ ...valid.applications[0], contractAmountFen: '25000000' }] }));
    expect(res.status).toBe(400);
    const p = await problem(res);
    expect(p.errors?.map((e) => e.path)).toContain('body.applications.0.contractAmountFen');
  });

  it('refuses money given as a fraction of a fen', async () => {
    const res = await post('/v1/rules/evaluate', JSON.stringify({ ...valid, applications: [{ ...valid.applications[0], contractAmountFen: 100.5 }] }));
    expect((await problem(res)).errors?.[0]?.path).toBe('body.applications.0.contractAmountFen');
  });

  it('names an unknown catalog id', async () => {
    const res = await post('/v1/rules/evaluate', JSON.stringify({ ...valid, applications: [{ ...valid.applications[0], catalogId: 99 }] }));
    expect(res.status).toBe(400);
    expect((await problem(res)).errors).toEqual([{ path: 'body.applications.0.catalogId', message: expect.stringContaining('99') }]);
  });

  it('names an unknown city', async () => {
    const res = await post('/v1/rules/evaluate', JSON.stringify({ ...valid, enterprise: { ...valid.enterprise, city: '纽约' } }));
    expect(res.status).toBe(400);
    expect((await problem(res)).errors).toEqual([{ path: 'body.enterprise.city', message: expect.stringContaining('纽约') }]);
  });

  it('names an unknown program year', async () => {
    const res = await post('/v1/rules/evaluate', JSON.stringify({ ...valid, program: 2031 }));
    expect(res.status).toBe(400);
    expect((await problem(res)).errors?.[0]?.path).toBe('body.program');
  });

  it('answers 401 without a key and with a wrong key', async () => {
    const none = await fetch(base + '/v1/rules/evaluate', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(valid) });
    expect(none.status).toBe(401);
    expect((await problem(none)).type).toBe('urn:gateway:error:GW_ERR_AUTH_MISSING');
    const wrong = await post('/v1/rules/evaluate', JSON.stringify(valid), { authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
  });

  it('answers 404 problem for an unknown route and an unknown program', async () => {
    expect((await fetch(base + '/v1/nothing')).status).toBe(404);
    const res = await fetch(base + '/v1/programs/1999', { headers: { authorization: `Bearer ${KEY}` } });
    expect(res.status).toBe(400); // 1999 is outside the accepted range of years
    const res2 = await fetch(base + '/v1/programs/2021', { headers: { authorization: `Bearer ${KEY}` } });
    expect(res2.status).toBe(404);
  });

  it('serves the catalog of 2020 with 27 items, caps in fen', async () => {
    const res = await fetch(base + '/v1/programs/2020/catalog', { headers: { authorization: `Bearer ${KEY}` } });
    const body = await res.json();
    expect(body.items).toHaveLength(27);
    const item5 = body.items.find((i: { id: number }) => i.id === 5);
    expect(item5.capFen.value).toBe(10_000_000);
    expect(item5.perDeviceFen.value).toBe(150_000);
  });
});

describe('POST /v1/rules/allocate through the HTTP stack', () => {
  it('waitlists the application that would overflow a city quota', async () => {
    const app = (id: string, voucherFen: number, submittedAt: string) => ({
      id, enterpriseCity: '440600', clusterPilot: false, supplierId: 'sup_a', supplierKind: 'other', voucherFen, submittedAt,
    });
    const res = await post('/v1/rules/allocate', JSON.stringify({
      program: 2020,
      applications: [app('a', 600, '2020-06-01T10:00:00+08:00'), app('b', 500, '2020-06-02T10:00:00+08:00')],
      quotas: { cities: { '440600': 1000 } },
    }));
    expect(res.status).toBe(200);
    const body = await res.json();
    const status = Object.fromEntries(body.applications.map((e: { id: string; status: string }) => [e.id, e.status]));
    expect(status).toEqual({ a: 'admitted', b: 'waitlisted' });
  });
});
