import Database from 'better-sqlite3';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRoutes } from '../../../src/api/routes/index.js';
import { ERROR_CATALOGUE, isErrorCode } from '../../../src/errors.js';
import { EDGE_INSTANTS, FUZZ_SEED, figure, formulaCellArb, instantArb, sized, storeViolations } from '../../support/fuzz.js';
import { spawnGateway, type ChildGateway } from '../../support/child-gateway.js';
import { TEST_ADMIN_KEY } from '../../support/gateway.js';
import { stopAfterReady } from '../../support/qos1-load.js';
import { buildCreditCode, seedContract, type SeededContract } from '../../support/seed.js';

/**
 * Random and mutated request bodies against every POST/PUT/PATCH route, through the real HTTP
 * stack (issue: fuzzing). Seeded (GW_FUZZ_SEED); GW_FUZZ_API_CASES per route (CI 10,000,
 * soak 50,000). Every answer must be 2xx, or a problem+json 4xx whose 400s name the failing
 * fields; never a 5xx, never a crash; the database stays intact.
 */
const PER_ROUTE = sized('GW_FUZZ_API_CASES', 10_000, 50_000);
const CONCURRENCY = 8;

let gw: ChildGateway;
let port: number;
let seeded: SeededContract;
/** Mutated contract bodies spread over many enterprises, as real ones are (a handful of contracts each). */
let enterprisePool: string[] = [];
const dataDir = mkdtempSync(join(tmpdir(), 'gw-api-fuzz-'));
const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

/** The database as the gateway left it so far (WAL lets this reader in beside the running process). */
function violations(): string[] {
  const db = new Database(join(dataDir, 'gateway.db'), { readonly: true });
  try {
    return storeViolations(db);
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  // The real process on its own core (the fuzzer is the other); the auth throttle is not under test here.
  gw = await spawnGateway(dataDir, { GATEWAY_API_AUTH_FAILURES: '0' });
  port = Number(new URL(gw.httpUrl).port);
  seeded = await seedContract(gw, { devices: 2 });
  enterprisePool = [];
  for (let i = 0; i < 100; i++) {
    const e = await gw.json<{ id: string }>('/v1/enterprises', { body: { name: `池 ${i}`, creditCode: buildCreditCode(800_000 + i), city: i % 2 ? '佛山' : '梅州', clusterPilot: i % 7 === 0 } });
    enterprisePool.push(e.id);
  }
});
afterAll(async () => {
  agent.destroy();
  // A clean SIGTERM exit proves the process survived everything it was sent.
  const code = gw && (await stopAfterReady(gw));
  expect(code).toBe(0);
  expect(violations()).toEqual([]);
  rmSync(dataDir, { recursive: true, force: true });
});

/** A valid body per known route; mutations of it reach deeper than random JSON does. */
function examples(i: number): Record<string, unknown> {
  return {
    'POST /v1/suppliers': { name: 'Fuzz supplier', kind: 'platform' },
    'PUT /v1/suppliers/{id}/quota': { quotaFen: 5_000_000_00 },
    'POST /v1/enterprises': { name: 'Fuzz 企业', creditCode: buildCreditCode(900_000), city: '佛山', clusterPilot: false },
    'POST /v1/contracts': {
      enterpriseId: enterprisePool[i % enterprisePool.length] ?? seeded.enterpriseId,
      supplierId: seeded.supplierId,
      catalogId: 5,
      contractAmountFen: 10_000_000,
      appliedAt: '2020-06-01T10:00:00+08:00',
      program: 2020,
    },
    'POST /v1/contracts/{id}/devices': { devices: [{ serial: 'FUZZ-1', model: 'M', name: 'n' }] },
    'PATCH /v1/devices/{id}': { enabled: true },
    'PUT /v1/programs/{year}/quotas/cities/{code}': { quotaFen: null },
    'POST /v1/api-keys': { role: 'reviewer' },
    'POST /v1/rules/evaluate': {
      program: 2020,
      enterprise: { city: '佛山', clusterPilot: false, priorVouchers: [{ catalogId: 20, year: 2019, voucherFen: 100_000, paid: true }] },
      applications: [{ catalogId: 6, contractAmountFen: 25_000_000, appliedAt: '2020-06-01T10:00:00+08:00', serviceProviders: 1, bigDataModels: 0, functionModules: 5 }],
    },
    'POST /v1/rules/allocate': {
      program: 2020,
      applications: [{ id: 'a', enterpriseCity: '440600', clusterPilot: false, supplierId: 'sup_a', supplierKind: 'other', voucherFen: 600, submittedAt: '2020-06-01T10:00:00+08:00' }],
      quotas: { cities: { '440600': 1000 } },
    },
    'POST /v1/contracts/{id}/redemption': { at: '2020-11-01T10:00:00+08:00', invoiceAmountFen: 10_000_000, paidAmountFen: 10_000_000, acceptanceReport: true },
    'POST /v1/contracts/{id}/redemption-applications': {
      invoiceNumber: 'FUZZ-1',
      invoiceAmountFen: 10_000_000,
      invoiceDate: '2020-07-01',
      paymentProofAmountFen: 10_000_000,
      paymentDate: '2020-07-02',
      paidAmountFen: 10_000_000,
      acceptanceReport: true,
      contractSignedAt: '2020-06-01',
    },
    'POST /v1/redemption-applications/{id}/decision': { decision: 'rejected', reason: 'fuzz' },
    'POST /v1/redemption-applications/{id}/acknowledgements': { signal: 'LOCKSTEP', note: 'fuzz' },
    'POST /v1/devices/{id}/exclusion': { reason: 'fuzz' },
    'POST /v1/devices/{id}/inclusion': { reason: 'fuzz' },
    'PUT /v1/duplicate-serials/{serial}/assignment': { contractId: seeded.contractId, reason: 'fuzz' },
    'POST /v1/settlements': { budgetFen: 1 },
    'POST /v1/spot-checks': { count: 1, seed: 'fuzz' },
    'PUT /v1/spot-checks/{id}/outcomes/{applicationId}': { outcome: 'other', note: 'fuzz' },
    'POST /v1/suppliers/{id}/quota-adjustments': { quotaFen: 1, reason: 'fuzz', cite: [{ spotCheckId: 1, applicationId: 1 }] },
  };
}

type Mutation = { at: number; action: 'replace' | 'delete' | 'add' | 'wrap'; value: unknown; key: string };
type BodyCase =
  | { kind: 'mutated'; mutations: Mutation[] }
  | { kind: 'json'; value: unknown }
  | { kind: 'text'; text: string; contentType: string }
  | { kind: 'deep'; depth: number }
  | { kind: 'none' };

const edgeValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(-1, 0, 1.5, 2 ** 53, 1e308, -1e308, '', ' ', '\u0000', 'null', '2020-02-30T10:00:00+08:00', '9'.repeat(400), '佛山市', '440600', '__proto__', true, null, [], {}),
  fc.constantFrom(...EDGE_INSTANTS),
  instantArb,
  formulaCellArb,
);

const bodyCaseArb: fc.Arbitrary<BodyCase> = fc.oneof(
  {
    weight: 55,
    arbitrary: fc.record({
      kind: fc.constant('mutated' as const),
      mutations: fc.array(fc.record({ at: fc.nat(), action: fc.constantFrom<Mutation['action']>('replace', 'replace', 'delete', 'add', 'wrap'), value: edgeValue, key: fc.constantFrom('__proto__', 'constructor', 'extra', 'id', '') }), { minLength: 1, maxLength: 3 }),
    }),
  },
  { weight: 5, arbitrary: fc.constant<BodyCase>({ kind: 'mutated', mutations: [] }) },
  { weight: 20, arbitrary: fc.record({ kind: fc.constant('json' as const), value: fc.jsonValue({ maxDepth: 4 }) }) },
  {
    weight: 15,
    arbitrary: fc.record({
      kind: fc.constant('text' as const),
      text: fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.constantFrom('{', '{"a":', '[1,2', '{"a":1}}', 'null', '"x"', '1e999', '{"__proto__":{"x":1}}')),
      contentType: fc.constantFrom('application/json', 'application/json', 'text/plain', 'application/json; charset=latin1', 'application/x-www-form-urlencoded', 'application/merge-patch+json'),
    }),
  },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('deep' as const), depth: fc.integer({ min: 100, max: 20_000 }) }) },
  { weight: 5, arbitrary: fc.constant({ kind: 'none' as const }) },
);

/** Every (object or array) node of a JSON value, parents first. */
function nodes(value: unknown, out: unknown[] = []): unknown[] {
  if (value && typeof value === 'object') {
    out.push(value);
    for (const v of Object.values(value)) nodes(v, out);
  }
  return out;
}

function mutate(example: unknown, mutations: Mutation[]): unknown {
  let doc: unknown = structuredClone(example ?? {});
  for (const original of mutations) {
    // constantFrom hands out the same [] / {} instance every time: copy, or a mutation could build a cycle.
    const m = { ...original, value: structuredClone(original.value) };
    const all = nodes(doc);
    if (all.length === 0) {
      doc = m.value;
      continue;
    }
    const node = all[m.at % all.length] as Record<string, unknown>;
    const keys = Object.keys(node);
    const key = keys.length ? keys[m.at % keys.length]! : m.key;
    if (m.action === 'replace') node[key] = m.value;
    else if (m.action === 'delete') delete node[key];
    else if (m.action === 'add') Object.defineProperty(node, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
    else node[key] = [node[key]];
  }
  return doc;
}

function render(c: BodyCase, example: unknown): { body?: string; contentType?: string } {
  switch (c.kind) {
    case 'mutated':
      return { body: JSON.stringify(mutate(example, c.mutations)) ?? 'null', contentType: 'application/json' };
    case 'json':
      return { body: JSON.stringify(c.value) ?? 'null', contentType: 'application/json' };
    case 'text':
      return { body: c.text, contentType: c.contentType };
    case 'deep':
      return { body: '['.repeat(c.depth) + ']'.repeat(c.depth), contentType: 'application/json' };
    case 'none':
      return {};
  }
}

function send(method: string, path: string, body: string | undefined, contentType: string | undefined): Promise<{ status: number; type: string; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${TEST_ADMIN_KEY}` };
    if (contentType) headers['content-type'] = contentType;
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (b: Buffer) => parts.push(b));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), text: Buffer.concat(parts).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** What is wrong with one answer, or undefined when it is an acceptable one. */
function judge(res: { status: number; type: string; text: string }): string | undefined {
  if (res.status >= 500) return `${res.status}: ${res.text.slice(0, 300)}`;
  if (res.status < 200 || (res.status >= 300 && res.status < 400)) return `unexpected status ${res.status}`;
  if (res.status < 300) return undefined;
  if (!res.type.startsWith('application/problem+json')) return `${res.status} with content-type ${res.type}`;
  let problem: { type?: unknown; title?: unknown; status?: unknown; detail?: unknown; code?: unknown; errors?: { path?: unknown; message?: unknown }[] };
  try {
    problem = JSON.parse(res.text);
  } catch {
    return `${res.status} problem is not JSON`;
  }
  if (typeof problem.type !== 'string' || typeof problem.title !== 'string' || problem.status !== res.status || typeof problem.detail !== 'string') {
    return `${res.status} problem lacks type/title/status/detail: ${res.text.slice(0, 200)}`;
  }
  if (!isErrorCode(problem.code)) return `${res.status} with an uncatalogued code ${String(problem.code)}`;
  const catalogued = ERROR_CATALOGUE[problem.code];
  if (catalogued.status !== res.status || catalogued.title !== problem.title) return `${problem.code} answered ${res.status} "${String(problem.title)}", catalogued ${catalogued.status} "${catalogued.title}"`;
  if (res.status === 400) {
    if (!Array.isArray(problem.errors) || problem.errors.length === 0) return `400 without errors[]: ${res.text.slice(0, 200)}`;
    for (const e of problem.errors) {
      if (typeof e.path !== 'string' || !/^(body|path|query)(\.|$)/.test(e.path) || typeof e.message !== 'string') return `400 with a vague error ${JSON.stringify(e)}`;
    }
  }
  return undefined;
}

describe('API fuzzing through the HTTP stack', () => {
  // Contract creation last: every contract it creates makes each later quota change re-run allocation over more contracts.
  const writeRoutes = allRoutes
    .filter((r) => r.method === 'post' || r.method === 'put' || r.method === 'patch')
    .sort((a, b) => Number(a.path === '/v1/contracts') - Number(b.path === '/v1/contracts'));

  it('covers every POST/PUT/PATCH route', () => {
    expect(writeRoutes.length).toBeGreaterThanOrEqual(10);
  });

  it.each(writeRoutes.map((r) => [`${r.method.toUpperCase()} ${r.path}`, r] as const))('%s answers every random body with 2xx or a precise problem', async (name, route) => {
    const path = route.path
      .replace('{id}', route.path.startsWith('/v1/devices') ? seeded.devices[0]!.id : route.path.startsWith('/v1/suppliers') ? seeded.supplierId : route.path.startsWith('/v1/contracts') ? seeded.contractId : '1')
      .replace('{serial}', seeded.devices[0]!.serial)
      .replace('{applicationId}', '1')
      .replace('{year}', '2020')
      .replace('{code}', '440600');
    const cases = fc.sample(bodyCaseArb, { seed: FUZZ_SEED + name.length * 7919 + name.charCodeAt(name.length - 2), numRuns: PER_ROUTE });
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < cases.length) {
          const i = next++;
          const { body, contentType } = render(cases[i]!, examples(i)[name]);
          const res = await send(route.method.toUpperCase(), path, body, contentType);
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          const problem = judge(res);
          if (problem && failures.length < 20) failures.push(`case ${i} ${JSON.stringify(body?.slice(0, 200))}: ${problem}`);
        }
      }),
    );
    expect(failures).toEqual([]);
    expect(gw.process.exitCode, 'the gateway process is still running').toBeNull();
    expect(violations()).toEqual([]);
    figure(`api fuzz ${name}`, { cases: cases.length, statuses: Object.fromEntries(statuses), seconds: Math.round((performance.now() - started) / 100) / 10 });
  }, 900_000);

  it('answers any instant in ?at= with 200 inside 2000–2099 and a 400 naming the range outside it, never a 5xx', async () => {
    const paths = [`/v1/contracts/${seeded.contractId}/verification`, '/v1/contracts?limit=1', '/v1/stats'];
    const instants = fc.sample(instantArb, { seed: FUZZ_SEED, numRuns: Math.ceil(PER_ROUTE / 20) });
    const failures: string[] = [];
    for (const [i, at] of instants.entries()) {
      const path = paths[i % paths.length]!;
      const res = await send('GET', `${path}${path.includes('?') ? '&' : '?'}at=${encodeURIComponent(at)}`, undefined, undefined);
      const inside = Date.parse(at) >= Date.parse('2000-01-01T00:00:00Z') && Date.parse(at) < Date.parse('2100-01-01T00:00:00Z');
      const fine = inside ? res.status === 200 : res.status === 400 && res.text.includes('2000-01-01') && judge(res) === undefined;
      if (!fine && failures.length < 20) failures.push(`${path} at=${at}: ${res.status} ${res.text.slice(0, 200)}`);
    }
    expect(failures).toEqual([]);
  });

  it('exports serials that start like formulas neutralised in the CSV, numbers as they are', async () => {
    const serials = [...new Set(fc.sample(formulaCellArb, { seed: FUZZ_SEED, numRuns: 500 }))];
    const contract = await seedContract(gw, { devices: 0, supplierId: seeded.supplierId, serials: [] });
    const registered: string[] = [];
    for (const serial of serials) {
      const res = await send('POST', `/v1/contracts/${contract.contractId}/devices`, JSON.stringify({ devices: [{ serial }] }), 'application/json');
      // The registry may normalise a serial (trim); the CSV must hold what it stored.
      if (res.status === 201) registered.push((JSON.parse(res.text) as { devices: { serial: string }[] }).devices[0]!.serial);
    }
    expect(registered.length).toBeGreaterThan(100);
    const res = await new Promise<string>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path: `/v1/contracts/${contract.contractId}/verification`, headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, accept: 'text/csv' }, agent }, (r) => {
          let body = '';
          r.on('data', (c: Buffer) => (body += c));
          r.on('end', () => resolve(body));
        })
        .on('error', reject);
    });
    const serialCells = new Set(parseCsv(res).slice(1).map((row) => row[2]));
    const number = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
    for (const serial of registered) {
      const formula = /^[=+\-@\t\r]/.test(serial) && !number.test(serial);
      expect(serialCells.has(formula ? `'${serial}` : serial), JSON.stringify(serial)).toBe(true);
    }
  });
});

/** RFC 4180 reader: quoted fields may hold commas, quotes ("") and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\r' && text[i + 1] === '\n') row.push(field), rows.push(row), (row = []), (field = ''), i++;
    else field += c;
  }
  return rows;
}
