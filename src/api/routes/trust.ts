import { z } from 'zod';
import type { Trust } from '../../trust/index.js';
import { routesWith, type Role } from '../route.js';

export interface TrustRouteDeps {
  trust: Trust;
}

const STAFF: readonly Role[] = ['admin', 'reviewer'];
const hex = z.string().regex(/^[0-9a-f]{64}$/).describe('SHA-256, lowercase hex');
const count = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

const jwksSchema = z
  .object({
    keys: z.array(z.object({ kty: z.literal('OKP'), crv: z.literal('Ed25519'), x: z.string(), kid: z.string(), alg: z.literal('EdDSA'), use: z.literal('sig') })),
  })
  .meta({ id: 'JsonWebKeySet' });

const treeHeadSchema = z
  .object({
    treeSize: z.number().int(),
    rootHash: hex,
    timestamp: z.number().int().describe('when signed, epoch milliseconds'),
    kid: z.string(),
    jws: z.string().describe('compact JWS (EdDSA, typ gateway-tree-head+json) over the canonical JSON of {treeSize, rootHash, timestamp}'),
  })
  .meta({ id: 'SignedTreeHead' });

const inclusionSchema = z
  .object({
    leafIndex: z.number().int(),
    treeSize: z.number().int(),
    auditPath: z.array(hex).describe('RFC 9162 §2.1.3.1 PATH(m, D[n]), leaf to root'),
    entry: z.string().describe('base64 of the entry bytes: UTF-8 canonical JSON of {v, id, at, actor, action, subject, details}'),
    leafHash: hex,
  })
  .meta({ id: 'InclusionProof' });

const consistencySchema = z
  .object({ from: z.number().int(), to: z.number().int(), consistencyPath: z.array(hex).describe('RFC 9162 §2.1.4.1 PROOF(m, D[n])') })
  .meta({ id: 'ConsistencyProof' });

const integritySchema = z
  .object({
    status: z.enum(['unchecked', 'ok', 'tampered']),
    checkedAt: z.string().optional(),
    treeSize: z.number().int().optional(),
    headsChecked: z.number().int().optional(),
    problems: z.array(z.string()),
  })
  .meta({ id: 'AuditIntegrity' });

const route = routesWith<TrustRouteDeps>();

/** Signatures and the transparency log (API.md "Signatures and the transparency log"). */
export const trustRoutes = [
  route({
    method: 'get',
    path: '/.well-known/jwks.json',
    summary: 'Public keys that sign reports, decisions and tree heads (Ed25519; retired keys stay listed)',
    tags: ['trust'],
    auth: 'public',
    responses: { 200: { description: 'JWK Set (RFC 7517)', schema: jwksSchema } },
    handler: async ({ deps }) => ({ status: 200, body: await deps.trust.log.jwks() }),
  }),
  route({
    method: 'get',
    path: '/v1/audit/tree-head',
    summary: 'Signed head of the audit log\'s Merkle tree (RFC 9162 §2.1); hashes in hex',
    tags: ['trust'],
    auth: 'public',
    responses: { 200: { description: 'the current signed tree head', schema: treeHeadSchema } },
    handler: async ({ deps }) => ({ status: 200, body: await deps.trust.log.treeHead() }),
  }),
  route({
    method: 'get',
    path: '/v1/audit/proof/inclusion',
    summary: 'Inclusion proof of one audit entry in a tree of the given size, with the entry bytes',
    tags: ['trust'],
    auth: STAFF,
    query: z.object({ index: count, treeSize: count.min(1) }),
    responses: { 200: { description: 'RFC 9162 inclusion proof', schema: inclusionSchema }, 400: { description: 'index or treeSize out of range' } },
    handler: async ({ deps, query }) => ({ status: 200, body: await deps.trust.log.inclusion(query.index, query.treeSize) }),
  }),
  route({
    method: 'get',
    path: '/v1/audit/proof/consistency',
    summary: 'Consistency proof between two tree sizes: the smaller tree is a prefix of the larger',
    tags: ['trust'],
    auth: 'public',
    query: z.object({ from: count.min(1), to: count.min(1) }),
    responses: { 200: { description: 'RFC 9162 consistency proof', schema: consistencySchema }, 400: { description: 'from or to out of range' } },
    handler: async ({ deps, query }) => ({ status: 200, body: await deps.trust.log.consistency(query.from, query.to) }),
  }),
  route({
    method: 'get',
    path: '/v1/audit/entries',
    summary: 'Entry bytes of consecutive leaves, so an auditor can recompute every leaf hash',
    tags: ['trust'],
    auth: STAFF,
    query: z.object({ from: count.default(0), limit: z.coerce.number().int().min(1).max(1000).default(100) }),
    responses: {
      200: {
        description: 'leaves from `from` on',
        schema: z
          .object({ entries: z.array(z.object({ leafIndex: z.number().int(), auditId: z.number().int(), entry: z.string().describe('base64 entry bytes') })) })
          .meta({ id: 'AuditLogEntries' }),
      },
    },
    handler: async ({ deps, query }) => ({ status: 200, body: { entries: await deps.trust.log.entries(query.from, query.limit) } }),
  }),
  route({
    method: 'post',
    path: '/v1/audit/check',
    summary: 'Runs the audit log integrity check now (it also runs at start and every GATEWAY_AUDIT_CHECK_INTERVAL_S)',
    tags: ['trust'],
    auth: ['admin'],
    responses: { 200: { description: 'outcome (also shown by /healthz)', schema: integritySchema } },
    handler: async ({ deps }) => ({ status: 200, body: await deps.trust.integrity.check() }),
  }),
];

export { integritySchema };
