/**
 * Edge node routes (API.md "Edge gateways"): a supplier registers an edge node for one of its
 * contracts, binds that contract's devices to it and reads it back. A supplier key sees only
 * its own contracts' edge nodes; anything else is a 404, as for devices.
 */
import { AppError, notFound } from '../../errors.js';
import { canSeeContract, edgeSchemas, registrySchemas, type EdgeNode } from '../../registry/index.js';
import { setEdgeNodeDevices } from '../../services/index.js';
import { defineRoute, type Principal, type Role, type RouteContext, type RouteSpec } from '../route.js';
import type { EdgeLiveStatus } from '../../edge/index.js';
import type { RegistryRouteDeps } from './registry.js';

/** The registry, and the broker's live view of edge connections where there is one. */
export type EdgeRouteDeps = RegistryRouteDeps & { edgeStatus?: (edgeNodeId: string) => EdgeLiveStatus };

const ANY_KEY: readonly Role[] = ['admin', 'reviewer', 'supplier'];
const WRITERS: readonly Role[] = ['admin', 'supplier'];
const TAGS = ['edge'];
const NOT_FOUND = { description: 'not found, or not visible to this key' };
const FORBIDDEN = { description: 'this role may not call this route' };
const INVALID = { description: 'a device is not a registered device of the contract' };
const BOUND = { description: 'a device is bound to another edge node' };

const route = <P = Record<string, never>, Q = Record<string, never>, B = undefined>(
  spec: RouteSpec<P, Q, B, EdgeRouteDeps>,
): RouteSpec<P, Q, B, EdgeRouteDeps> => defineRoute<P, Q, B, EdgeRouteDeps>(spec);

function principalOf(ctx: RouteContext<unknown, unknown, unknown, EdgeRouteDeps>): Principal {
  if (!ctx.principal) throw new AppError('GW_ERR_AUTH_MISSING', 'missing API key');
  return ctx.principal;
}

async function visibleEdgeNode(ctx: RouteContext<{ id: string }, unknown, unknown, EdgeRouteDeps>): Promise<EdgeNode> {
  const node = await ctx.deps.registry.edgeNodes.get(ctx.params.id);
  if (!node || !canSeeContract(principalOf(ctx), node)) throw notFound('edge node', ctx.params.id);
  return node;
}

export const edgeNodeRoutes: RouteSpec<any, any, any, EdgeRouteDeps>[] = [
  route({
    method: 'post',
    path: '/v1/contracts/{id}/edge-nodes',
    summary: 'Register an edge node for a contract and bind some of its devices; the token is returned this once only',
    tags: TAGS,
    auth: WRITERS,
    params: registrySchemas.idParamsSchema,
    body: edgeSchemas.edgeNodeCreateSchema,
    responses: { 201: { description: 'registered', schema: edgeSchemas.issuedEdgeNodeSchema }, 400: INVALID, 403: FORBIDDEN, 404: NOT_FOUND, 409: BOUND },
    handler: async (ctx) => {
      const contract = await ctx.deps.registry.contracts.get(ctx.params.id);
      if (!contract || !canSeeContract(principalOf(ctx), contract)) throw notFound('contract', ctx.params.id);
      return { status: 201, body: await ctx.deps.registry.edgeNodes.create(contract.id, ctx.body, principalOf(ctx).keyId) };
    },
  }),
  route({
    method: 'put',
    path: '/v1/edge-nodes/{id}/devices',
    summary: 'Replace the devices bound to an edge node (audited); a live session loses unbound devices at once',
    tags: TAGS,
    auth: WRITERS,
    params: registrySchemas.idParamsSchema,
    body: edgeSchemas.edgeNodeDevicesSchema,
    responses: { 200: { description: 'the edge node', schema: edgeSchemas.edgeNodeSchema }, 400: INVALID, 403: FORBIDDEN, 404: NOT_FOUND, 409: BOUND },
    handler: async (ctx) => {
      const node = await visibleEdgeNode(ctx);
      const deps = { edgeNodes: ctx.deps.registry.edgeNodes, sessions: ctx.deps.sessions };
      return { status: 200, body: await setEdgeNodeDevices(deps, node.id, ctx.body.devices, principalOf(ctx).keyId) };
    },
  }),
  route({
    method: 'get',
    path: '/v1/edge-nodes/{id}',
    summary: 'Get an edge node with its bound devices and the live state of its connection',
    tags: TAGS,
    auth: ANY_KEY,
    params: registrySchemas.idParamsSchema,
    responses: { 200: { description: 'the edge node', schema: edgeSchemas.edgeNodeWithLiveSchema }, 404: NOT_FOUND },
    handler: async (ctx) => {
      const node = await visibleEdgeNode(ctx);
      const live = ctx.deps.edgeStatus?.(node.id);
      return { status: 200, body: live ? { ...node, live } : node };
    },
  }),
];
