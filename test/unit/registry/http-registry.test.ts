/** The registry API over real HTTP: validation, problem+json, one-time secrets, pagination. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOpenApi } from '../../../src/api/openapi.js';
import { registryRoutes } from '../../../src/api/routes/registry.js';
import { buildCreditCode, buildEnterprise } from './fixtures.js';
import { startRegistryServer, type RegistryServer } from './http-fixture.js';

let srv: RegistryServer;
let admin: string;
let supplierKey: string;
let supplierId: string;
let enterpriseId: string;
let contractId: string;

beforeAll(async () => {
  srv = await startRegistryServer();
  admin = (await srv.registry.apiKeys.bootstrapAdmin()).key!;
  const supplier = await (await srv.request('POST', '/v1/suppliers', { key: admin, body: { name: '某平台', kind: 'platform' } })).json();
  supplierId = supplier.id;
  supplierKey = (await (await srv.request('POST', '/v1/api-keys', { key: admin, body: { role: 'supplier', supplierId } })).json()).key;
  enterpriseId = (await (await srv.request('POST', '/v1/enterprises', { key: admin, body: buildEnterprise() })).json()).id;
  const contract = await srv.request('POST', '/v1/contracts', {
    key: admin,
    body: { enterpriseId, supplierId, program: 2020, catalogId: 5, contractAmountFen: 10_000_000, appliedAt: '2020-06-01T10:00:00+08:00' },
  });
  contractId = (await contract.json()).id;
});
afterAll(() => srv.close());

async function problem(res: Response) {
  expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
  return (await res.json()) as { status: number; code: string; detail: string; errors?: { path: string; message: string }[] };
}

describe('suppliers and enterprises over HTTP', () => {
  it('creates a platform supplier with the 800万元 quota', async () => {
    const res = await srv.request('POST', '/v1/suppliers', { key: admin, body: { name: '运营商', kind: 'platform' } });
    expect(res.status).toBe(201);
    const body = await res.json();
    expect(body).toMatchObject({ name: '运营商', kind: 'platform', quotaFen: 800_000_000 });
    expect(body.id).toMatch(/^sup_[a-z2-7]{12}$/);
    expect(body.createdAt).toMatch(/\+08:00$/);
  });

  it('rejects a wrong check character with the path body.creditCode', async () => {
    const code = buildCreditCode();
    const wrong = code.slice(0, 17) + (code[17] === '0' ? '1' : '0');
    const res = await srv.request('POST', '/v1/enterprises', { key: admin, body: buildEnterprise({ creditCode: wrong }) });
    expect(res.status).toBe(400);
    expect((await problem(res)).errors?.map((e) => e.path)).toEqual(['body.creditCode']);
  });

  it('rejects an unknown city with the path body.city', async () => {
    const res = await srv.request('POST', '/v1/enterprises', { key: admin, body: buildEnterprise({ city: '火星' }) });
    expect(res.status).toBe(400);
    expect((await problem(res)).errors?.map((e) => e.path)).toEqual(['body.city']);
  });

  it('returns the resolved city as name and code, and refuses a second enterprise with the same credit code', async () => {
    const body = buildEnterprise({ city: '440600' });
    const first = await srv.request('POST', '/v1/enterprises', { key: admin, body });
    expect(first.status).toBe(201);
    expect((await first.json()).city).toEqual({ name: '佛山市', code: '440600' });
    const second = await srv.request('POST', '/v1/enterprises', { key: admin, body: { ...body, name: 'another' } });
    expect(second.status).toBe(409);
  });
});

describe('contracts over HTTP', () => {
  it('names unknown enterprise and supplier ids as body fields', async () => {
    const res = await srv.request('POST', '/v1/contracts', {
      key: admin,
      body: { enterpriseId: 'ent_nonexistent0', supplierId: 'sup_nonexistent0', program: 2020, catalogId: 5, contractAmountFen: 1, appliedAt: '2020-06-01T10:00:00+08:00' },
    });
    expect(res.status).toBe(400);
    expect((await problem(res)).errors?.map((e) => e.path)).toEqual(['body.enterpriseId', 'body.supplierId']);
  });

  it('rejects an unknown program year', async () => {
    const res = await srv.request('POST', '/v1/contracts', {
      key: admin,
      body: { enterpriseId, supplierId, program: 2031, catalogId: 5, contractAmountFen: 1, appliedAt: '2020-06-01T10:00:00+08:00' },
    });
    expect(res.status).toBe(400);
    expect((await problem(res)).errors?.map((e) => e.path)).toEqual(['body.program']);
  });

  it('rejects times without an offset and fractional fen', async () => {
    const res = await srv.request('POST', '/v1/contracts', {
      key: admin,
      body: { enterpriseId, supplierId, program: 2020, catalogId: 5, contractAmountFen: 1.5, appliedAt: '2020-06-01T10:00:00' },
    });
    expect(res.status).toBe(400);
    expect((await problem(res)).errors?.map((e) => e.path).sort()).toEqual(['body.appliedAt', 'body.contractAmountFen']);
  });
});

describe('device registration over HTTP', () => {
  it('registers 10,000 devices in one request and shows each token only in that response', async () => {
    const devices = Array.from({ length: 10_000 }, (_, i) => ({ serial: `HTTP-${i}`, model: 'PLC-200' }));
    const started = performance.now();
    const res = await srv.request('POST', `/v1/contracts/${contractId}/devices`, { key: supplierKey, body: { devices } });
    console.log(`POST 10,000 devices over HTTP: ${(performance.now() - started).toFixed(0)} ms`);
    expect(res.status).toBe(201);
    const body = (await res.json()) as { devices: { id: string; serial: string; token: string }[] };
    expect(body.devices).toHaveLength(10_000);
    expect(body.devices[9_999]!.serial).toBe('HTTP-9999');
    expect(await srv.registry.devices.verifyToken(body.devices[1234]!.id, body.devices[1234]!.token)).toBe('ok');

    const one = await (await srv.request('GET', `/v1/devices/${body.devices[0]!.id}`, { key: supplierKey })).json();
    expect(one).toMatchObject({ id: body.devices[0]!.id, serial: 'HTTP-0', model: 'PLC-200', contractId, supplierId, enabled: true });
    expect(JSON.stringify(one)).not.toContain(body.devices[0]!.token);
  });

  it('answers 409 naming the serials already registered', async () => {
    await srv.request('POST', `/v1/contracts/${contractId}/devices`, { key: admin, body: { devices: [{ serial: 'TAKEN-1' }] } });
    const res = await srv.request('POST', `/v1/contracts/${contractId}/devices`, {
      key: admin,
      body: { devices: [{ serial: 'FREE-1' }, { serial: 'TAKEN-1' }] },
    });
    expect(res.status).toBe(409);
    expect((await problem(res)).detail).toContain('TAKEN-1');
  });

  it('points at the offending device in a poisoned batch', async () => {
    const devices = [{ serial: 'OK-1' }, { serial: 'OK-2' }, { serial: 'OK-3' }, { serial: 'bad\u0000serial' }, { serial: 42 }];
    const res = await srv.request('POST', `/v1/contracts/${contractId}/devices`, { key: admin, body: { devices } });
    expect(res.status).toBe(400);
    expect((await problem(res)).errors?.map((e) => e.path)).toEqual(['body.devices.3.serial', 'body.devices.4.serial']);
  });

  it('refuses an empty batch and one of 10,001', async () => {
    const empty = await srv.request('POST', `/v1/contracts/${contractId}/devices`, { key: admin, body: { devices: [] } });
    expect(empty.status).toBe(400);
    const devices = Array.from({ length: 10_001 }, (_, i) => ({ serial: `X${i}` }));
    const tooMany = await srv.request('POST', `/v1/contracts/${contractId}/devices`, { key: admin, body: { devices } });
    expect(tooMany.status).toBe(400);
    expect((await problem(tooMany)).errors?.[0]?.path).toBe('body.devices');
  });

  it('refuses malformed JSON as a problem', async () => {
    const res = await srv.request('POST', `/v1/contracts/${contractId}/devices`, { key: admin, rawBody: '{"devices": [' });
    expect(res.status).toBe(400);
    expect((await problem(res)).code).toBe('GW_ERR_API_MALFORMED_JSON');
  });

  it('disables a device and rotates its token', async () => {
    const reg = await (await srv.request('POST', `/v1/contracts/${contractId}/devices`, { key: supplierKey, body: { devices: [{ serial: 'ROTATE-ME' }] } })).json();
    const { id, token } = reg.devices[0];
    const patched = await srv.request('PATCH', `/v1/devices/${id}`, { key: supplierKey, body: { enabled: false } });
    expect((await patched.json()).enabled).toBe(false);
    expect(await srv.registry.devices.verifyToken(id, token)).toBe('disabled');
    const rotated = await (await srv.request('POST', `/v1/devices/${id}/token`, { key: supplierKey })).json();
    expect(rotated.token).toMatch(/^[0-9a-f]{32}$/);
    expect(await srv.registry.devices.verifyToken(id, token)).toBe('bad-token');
  });
});

describe('pagination', () => {
  it('walks a list with limit and nextCursor, ending with null', async () => {
    const seen: string[] = [];
    let next = `/v1/contracts/${contractId}/devices?limit=1000`;
    for (;;) {
      const page = await (await srv.request('GET', next, { key: admin })).json();
      expect(page.items.length).toBeLessThanOrEqual(1000);
      seen.push(...page.items.map((d: { id: string }) => d.id));
      if (page.nextCursor === null) break;
      next = `/v1/contracts/${contractId}/devices?limit=1000&cursor=${encodeURIComponent(page.nextCursor)}`;
    }
    expect(seen.length).toBe(await srv.registry.devices.countByContract(contractId));
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('refuses a limit out of range and a forged cursor', async () => {
    expect((await srv.request('GET', '/v1/suppliers?limit=0', { key: admin })).status).toBe(400);
    expect((await srv.request('GET', '/v1/suppliers?limit=1001', { key: admin })).status).toBe(400);
    const forged = await srv.request('GET', '/v1/suppliers?cursor=not-a-cursor', { key: admin });
    expect(forged.status).toBe(400);
    expect((await problem(forged)).errors?.[0]?.path).toBe('query.cursor');
  });
});

describe('API keys and audit over HTTP', () => {
  it('never lists a key, and a revoked key gets 401', async () => {
    const issued = await (await srv.request('POST', '/v1/api-keys', { key: admin, body: { role: 'reviewer' } })).json();
    expect((await srv.request('GET', '/v1/audit', { key: issued.key })).status).toBe(200);
    const list = await (await srv.request('GET', '/v1/api-keys', { key: admin })).text();
    expect(list).not.toContain(issued.key);
    expect((await srv.request('DELETE', `/v1/api-keys/${issued.id}`, { key: admin })).status).toBe(204);
    expect((await srv.request('GET', '/v1/audit', { key: issued.key })).status).toBe(401);
  });

  it('filters the audit log by subject', async () => {
    const page = await (await srv.request('GET', `/v1/audit?subject=${contractId}`, { key: admin })).json();
    expect(page.items.length).toBeGreaterThan(0);
    expect(page.items.every((e: { subject: string }) => e.subject === contractId)).toBe(true);
    expect(page.items[0].action).toBe('contract.create');
  });
});

describe('OpenAPI', () => {
  it('generates a document for every registry route with named components', () => {
    const doc = buildOpenApi(registryRoutes, { title: 't', version: '0' }) as {
      paths: Record<string, unknown>;
      components: { schemas: Record<string, unknown> };
    };
    expect(Object.keys(doc.paths)).toContain('/v1/contracts/{id}/devices');
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(['Supplier', 'Enterprise', 'Contract', 'Device', 'IssuedDevices', 'ApiKey', 'AuditEntry', 'ProgramQuotas']),
    );
  });
});
