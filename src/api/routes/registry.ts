/**
 * Registry routes (API.md "Registry"): suppliers, enterprises, contracts, devices, quotas,
 * API keys, audit log. Route-level `auth` decides which roles may call at all; what a supplier
 * key may *see* is decided by src/registry's access rules, and anything it may not see is a 404.
 */
import { AppError, notFound } from '../../errors.js';
import {
  canSeeContract,
  canSeeDevice,
  canSeeSupplier,
  supplierScope,
  type Contract,
  type Device,
  type Registry,
  registrySchemas as s,
} from '../../registry/index.js';
import { rotateDeviceToken, setDeviceEnabled, type SessionCloser } from '../../services/index.js';
import { defineRoute, type Principal, type Role, type RouteContext, type RouteSpec } from '../route.js';

/** What the registry routes need from the app's deps. */
export interface RegistryRouteDeps {
  registry: Registry;
  /** Live MQTT sessions, closed when a device's credentials change. */
  sessions: SessionCloser;
}

const credentialDeps = (deps: RegistryRouteDeps) => ({ devices: deps.registry.devices, sessions: deps.sessions });

const ADMIN: readonly Role[] = ['admin'];
const STAFF: readonly Role[] = ['admin', 'reviewer'];
const ANY_KEY: readonly Role[] = ['admin', 'reviewer', 'supplier'];
const DEVICE_WRITERS: readonly Role[] = ['admin', 'supplier'];
const TAGS = ['registry'];

const route = <P = Record<string, never>, Q = Record<string, never>, B = undefined>(
  spec: RouteSpec<P, Q, B, RegistryRouteDeps>,
): RouteSpec<P, Q, B, RegistryRouteDeps> => defineRoute<P, Q, B, RegistryRouteDeps>(spec);

/** Non-public routes always have a principal; mount.ts guarantees it. */
function principalOf(ctx: RouteContext<unknown, unknown, unknown, RegistryRouteDeps>): Principal {
  if (!ctx.principal) throw new AppError('GW_ERR_AUTH_MISSING', 'missing API key');
  return ctx.principal;
}

async function visibleContract(ctx: RouteContext<{ id: string }, unknown, unknown, RegistryRouteDeps>): Promise<Contract> {
  const contract = await ctx.deps.registry.contracts.get(ctx.params.id);
  if (!contract || !canSeeContract(principalOf(ctx), contract)) throw notFound('contract', ctx.params.id);
  return contract;
}

async function visibleDevice(ctx: RouteContext<{ id: string }, unknown, unknown, RegistryRouteDeps>): Promise<Device> {
  const device = await ctx.deps.registry.devices.get(ctx.params.id);
  if (!device || !canSeeDevice(principalOf(ctx), device)) throw notFound('device', ctx.params.id);
  return device;
}

const page = (q: { limit?: number | undefined; cursor?: string | undefined }) => ({
  ...(q.limit !== undefined ? { limit: q.limit } : {}),
  ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
});


const problem = (description: string) => ({ description });
const NOT_FOUND = problem('not found, or not visible to this key');
const FORBIDDEN = problem('this role may not call this route');

export const registryRoutes: RouteSpec<any, any, any, RegistryRouteDeps>[] = [
  // ── suppliers ──────────────────────────────────────────────────────────────────────────
  route({
    method: 'post',
    path: '/v1/suppliers',
    summary: 'Create a supplier; its quota starts at the program amount for its kind (37号 §三)',
    tags: TAGS,
    auth: ADMIN,
    body: s.supplierCreateSchema,
    responses: { 201: { description: 'created', schema: s.supplierSchema }, 403: FORBIDDEN },
    handler: async (ctx) => ({ status: 201, body: await ctx.deps.registry.suppliers.create(ctx.body, principalOf(ctx).keyId) }),
  }),
  route({
    method: 'get',
    path: '/v1/suppliers',
    summary: 'List suppliers (a supplier key sees only its own)',
    tags: TAGS,
    auth: ANY_KEY,
    query: s.pageQuerySchema,
    responses: { 200: { description: 'one page', schema: s.supplierPageSchema } },
    handler: async (ctx) => {
      const scope = supplierScope(principalOf(ctx));
      return {
        status: 200,
        body: await ctx.deps.registry.suppliers.page(scope === undefined ? {} : { supplierId: scope }, page(ctx.query)),
      };
    },
  }),
  route({
    method: 'get',
    path: '/v1/suppliers/{id}',
    summary: 'Get a supplier',
    tags: TAGS,
    auth: ANY_KEY,
    params: s.idParamsSchema,
    responses: { 200: { description: 'the supplier', schema: s.supplierSchema }, 404: NOT_FOUND },
    handler: async (ctx) => {
      const supplier = await ctx.deps.registry.suppliers.get(ctx.params.id);
      if (!supplier || !canSeeSupplier(principalOf(ctx), supplier.id)) throw notFound('supplier', ctx.params.id);
      return { status: 200, body: supplier };
    },
  }),
  route({
    method: 'put',
    path: '/v1/suppliers/{id}/quota',
    summary: "Set a supplier's quota and re-run allocation (waitlisted contracts may be admitted)",
    tags: TAGS,
    auth: ADMIN,
    params: s.idParamsSchema,
    body: s.supplierQuotaSchema,
    responses: { 200: { description: 'the supplier', schema: s.supplierSchema }, 403: FORBIDDEN, 404: NOT_FOUND },
    handler: async (ctx) => ({
      status: 200,
      body: await ctx.deps.registry.suppliers.setQuota(ctx.params.id, ctx.body.quotaFen, principalOf(ctx).keyId),
    }),
  }),

  // ── enterprises ────────────────────────────────────────────────────────────────────────
  route({
    method: 'post',
    path: '/v1/enterprises',
    summary: 'Create an enterprise (统一社会信用代码 check character verified, city resolved)',
    tags: TAGS,
    auth: ADMIN,
    body: s.enterpriseCreateSchema,
    responses: {
      201: { description: 'created', schema: s.enterpriseSchema },
      403: FORBIDDEN,
      409: problem('an enterprise with this credit code exists'),
    },
    handler: async (ctx) => ({ status: 201, body: await ctx.deps.registry.enterprises.create(ctx.body, principalOf(ctx).keyId) }),
  }),
  route({
    method: 'get',
    path: '/v1/enterprises',
    summary: 'List enterprises',
    tags: TAGS,
    auth: STAFF,
    query: s.pageQuerySchema,
    responses: { 200: { description: 'one page', schema: s.enterprisePageSchema }, 403: FORBIDDEN },
    handler: async (ctx) => ({ status: 200, body: await ctx.deps.registry.enterprises.page(page(ctx.query)) }),
  }),
  route({
    method: 'get',
    path: '/v1/enterprises/{id}',
    summary: 'Get an enterprise',
    tags: TAGS,
    auth: STAFF,
    params: s.idParamsSchema,
    responses: { 200: { description: 'the enterprise', schema: s.enterpriseSchema }, 403: FORBIDDEN, 404: NOT_FOUND },
    handler: async (ctx) => {
      const enterprise = await ctx.deps.registry.enterprises.get(ctx.params.id);
      if (!enterprise) throw notFound('enterprise', ctx.params.id);
      return { status: 200, body: enterprise };
    },
  }),

  // ── contracts ──────────────────────────────────────────────────────────────────────────
  route({
    method: 'post',
    path: '/v1/contracts',
    summary:
      "Create a contract: re-evaluates all the enterprise's contracts of the program (说明3 cap, 说明4 groups) and re-runs quota allocation",
    tags: TAGS,
    auth: ADMIN,
    body: s.contractCreateSchema,
    responses: { 201: { description: 'created, with voucher, decision and status', schema: s.contractSchema }, 403: FORBIDDEN },
    handler: async (ctx) => ({ status: 201, body: await ctx.deps.registry.contracts.create(ctx.body, principalOf(ctx).keyId) }),
  }),
  route({
    method: 'get',
    path: '/v1/contracts/{id}',
    summary: 'Get a contract with its evaluation and allocation',
    tags: TAGS,
    auth: ANY_KEY,
    params: s.idParamsSchema,
    responses: { 200: { description: 'the contract', schema: s.contractSchema }, 404: NOT_FOUND },
    handler: async (ctx) => ({ status: 200, body: await visibleContract(ctx) }),
  }),

  // ── devices ────────────────────────────────────────────────────────────────────────────
  route({
    method: 'post',
    path: '/v1/contracts/{id}/devices',
    summary: 'Register up to 10,000 devices in one transaction; each token is returned this once only',
    tags: TAGS,
    auth: DEVICE_WRITERS,
    params: s.idParamsSchema,
    body: s.deviceRegisterSchema,
    responses: {
      201: { description: 'registered', schema: s.issuedDevicesSchema },
      403: FORBIDDEN,
      404: NOT_FOUND,
      409: problem('a serial is already registered by this supplier, or repeated in the request'),
    },
    handler: async (ctx) => {
      const contract = await visibleContract(ctx);
      const devices = await ctx.deps.registry.devices.register(contract.id, ctx.body.devices, principalOf(ctx).keyId);
      return { status: 201, body: { devices } };
    },
  }),
  route({
    method: 'get',
    path: '/v1/contracts/{id}/devices',
    summary: "List a contract's devices",
    tags: TAGS,
    auth: ANY_KEY,
    params: s.idParamsSchema,
    query: s.pageQuerySchema,
    responses: { 200: { description: 'one page', schema: s.devicePageSchema }, 404: NOT_FOUND },
    handler: async (ctx) => {
      const contract = await visibleContract(ctx);
      return { status: 200, body: await ctx.deps.registry.devices.pageByContract(contract.id, page(ctx.query)) };
    },
  }),
  route({
    method: 'get',
    path: '/v1/devices/{id}',
    summary: 'Get a device',
    tags: TAGS,
    auth: ANY_KEY,
    params: s.idParamsSchema,
    responses: { 200: { description: 'the device', schema: s.deviceSchema }, 404: NOT_FOUND },
    handler: async (ctx) => ({ status: 200, body: await visibleDevice(ctx) }),
  }),
  route({
    method: 'patch',
    path: '/v1/devices/{id}',
    summary: 'Enable or disable a device (a disabled device is refused at MQTT CONNECT)',
    tags: TAGS,
    auth: DEVICE_WRITERS,
    params: s.idParamsSchema,
    body: s.devicePatchSchema,
    responses: { 200: { description: 'the device', schema: s.deviceSchema }, 403: FORBIDDEN, 404: NOT_FOUND },
    handler: async (ctx) => {
      const device = await visibleDevice(ctx);
      return { status: 200, body: await setDeviceEnabled(credentialDeps(ctx.deps), device.id, ctx.body.enabled, principalOf(ctx).keyId) };
    },
  }),
  route({
    method: 'post',
    path: '/v1/devices/{id}/token',
    summary: "Rotate a device's token; the new token is returned this once only, the old one stops working",
    tags: TAGS,
    auth: DEVICE_WRITERS,
    params: s.idParamsSchema,
    responses: { 200: { description: 'the new credential', schema: s.issuedDeviceSchema }, 403: FORBIDDEN, 404: NOT_FOUND },
    handler: async (ctx) => {
      const device = await visibleDevice(ctx);
      return { status: 200, body: await rotateDeviceToken(credentialDeps(ctx.deps), device.id, principalOf(ctx).keyId) };
    },
  }),

  // ── quotas ─────────────────────────────────────────────────────────────────────────────
  route({
    method: 'get',
    path: '/v1/programs/{year}/quotas',
    summary: 'City and supplier quotas of a program year with the amounts admitted contracts use',
    tags: TAGS,
    auth: STAFF,
    params: s.yearParamsSchema,
    responses: { 200: { description: 'quotas', schema: s.programQuotasSchema }, 403: FORBIDDEN },
    handler: async (ctx) => ({ status: 200, body: await ctx.deps.registry.quotas.get(ctx.params.year) }),
  }),
  route({
    method: 'put',
    path: '/v1/programs/{year}/quotas/cities/{code}',
    summary: "Set a city's quota (null = unlimited) and re-run allocation",
    tags: TAGS,
    auth: ADMIN,
    params: s.cityQuotaParamsSchema,
    body: s.cityQuotaSchema,
    responses: { 200: { description: 'quotas after re-allocation', schema: s.programQuotasSchema }, 403: FORBIDDEN },
    handler: async (ctx) => ({
      status: 200,
      body: await ctx.deps.registry.quotas.setCityQuota(ctx.params.year, ctx.params.code, ctx.body.quotaFen, principalOf(ctx).keyId),
    }),
  }),

  // ── API keys ───────────────────────────────────────────────────────────────────────────
  route({
    method: 'post',
    path: '/v1/api-keys',
    summary: 'Issue an API key; the key is returned this once only (stored as SHA-256)',
    tags: TAGS,
    auth: ADMIN,
    body: s.apiKeyCreateSchema,
    responses: { 201: { description: 'issued', schema: s.issuedApiKeySchema }, 403: FORBIDDEN },
    handler: async (ctx) => ({ status: 201, body: await ctx.deps.registry.apiKeys.create(ctx.body, principalOf(ctx).keyId) }),
  }),
  route({
    method: 'get',
    path: '/v1/api-keys',
    summary: 'List API keys (never the keys themselves)',
    tags: TAGS,
    auth: ADMIN,
    query: s.pageQuerySchema,
    responses: { 200: { description: 'one page', schema: s.apiKeyPageSchema }, 403: FORBIDDEN },
    handler: async (ctx) => ({ status: 200, body: await ctx.deps.registry.apiKeys.page(page(ctx.query)) }),
  }),
  route({
    method: 'delete',
    path: '/v1/api-keys/{id}',
    summary: 'Revoke an API key',
    tags: TAGS,
    auth: ADMIN,
    params: s.idParamsSchema,
    responses: { 204: { description: 'revoked' }, 403: FORBIDDEN, 404: NOT_FOUND },
    handler: async (ctx) => {
      if (!await ctx.deps.registry.apiKeys.revoke(ctx.params.id, principalOf(ctx).keyId)) throw notFound('API key', ctx.params.id);
      return { status: 204 };
    },
  }),

  // ── audit ──────────────────────────────────────────────────────────────────────────────
  route({
    method: 'get',
    path: '/v1/audit',
    summary: 'The append-only audit log, oldest first; filter by subject or action',
    tags: TAGS,
    auth: STAFF,
    query: s.auditQuerySchema,
    responses: { 200: { description: 'one page', schema: s.auditPageSchema }, 403: FORBIDDEN },
    handler: async (ctx) => {
      const { subject, action } = ctx.query;
      const filter = { ...(subject !== undefined ? { subject } : {}), ...(action !== undefined ? { action } : {}) };
      return { status: 200, body: await ctx.deps.registry.audit.page(filter, page(ctx.query)) };
    },
  }),
];
