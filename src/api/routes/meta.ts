import { z } from 'zod';
import type { Metrics } from '../../metrics.js';
import type { StoreHealth } from '../../telemetry/index.js';
import type { IntegrityState } from '../../trust/index.js';
import { routesWith } from '../route.js';
import { integritySchema } from './trust.js';

export interface MetaRouteDeps {
  metrics: Metrics;
  health(): { node: string; store: StoreHealth; registry: StoreHealth; mqtt: { connections: number }; auditLog: IntegrityState };
  connectionInfo(): { mqtt: { host: string; port: number; tlsPort?: number } };
  openapi(): Record<string, unknown>;
}

const healthSchema = z
  .object({
    status: z.enum(['ok', 'degraded']),
    node: z.string().describe('the node that answered (GATEWAY_NODE_ID)'),
    store: z.object({ status: z.enum(['ok', 'degraded']), detail: z.string().optional() }),
    registry: z
      .object({ status: z.enum(['ok', 'degraded']), detail: z.string().optional() })
      .describe("the registry's database (SQLite file or PostgreSQL); degraded while unreachable"),
    mqtt: z.object({ connections: z.number().int() }),
    auditLog: integritySchema.describe('last audit log integrity check; tampered makes the status degraded'),
  })
  .meta({ id: 'Health' });

const route = routesWith<MetaRouteDeps>();

export const metaRoutes = [
  route({
    method: 'get',
    path: '/healthz',
    summary:
      'Liveness, store and registry database health, audit log integrity (degraded while a database is unreachable or the audit log was tampered with)',
    tags: ['meta'],
    auth: 'public',
    responses: { 200: { description: 'healthy or degraded', schema: healthSchema } },
    handler({ deps }) {
      const h = deps.health();
      const status = h.store.status === 'ok' && h.registry.status === 'ok' && h.auditLog.status !== 'tampered' ? 'ok' : 'degraded';
      return { status: 200, body: { ...h, status } };
    },
  }),
  route({
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics (admin key; or without a key on the GATEWAY_METRICS_PORT listener)',
    tags: ['meta'],
    // Auth failures, bans and connection counts tell an attacker how its probe is going (issue 15).
    auth: ['admin'],
    responses: { 200: { description: 'Prometheus text exposition format', contentType: 'text/plain' } },
    async handler({ deps, res }) {
      const { registry } = deps.metrics;
      res.type(registry.contentType).send(await registry.metrics());
      return undefined;
    },
  }),
  route({
    method: 'get',
    path: '/openapi.json',
    summary: 'This OpenAPI 3.1 document',
    tags: ['meta'],
    auth: 'public',
    responses: { 200: { description: 'OpenAPI document' } },
    handler({ deps }) {
      return { status: 200, body: deps.openapi() };
    },
  }),
  route({
    method: 'get',
    path: '/v1/me',
    summary: 'The role of the calling API key',
    tags: ['meta'],
    auth: ['admin', 'reviewer', 'supplier'],
    responses: {
      200: {
        description: 'principal',
        schema: z
          .object({
            keyId: z.string(),
            role: z.enum(['admin', 'reviewer', 'supplier']),
            supplierId: z.string().optional(),
            expiresAt: z.string().nullable().describe('when this key stops working (ISO, +08:00); null = no expiry'),
          })
          .meta({ id: 'Principal' }),
      },
    },
    handler({ principal }) {
      return { status: 200, body: { ...principal!, expiresAt: principal!.expiresAt ?? null } };
    },
  }),
  route({
    method: 'get',
    path: '/v1/connection-info',
    summary: 'How devices connect: MQTT address, heartbeat topic and payload',
    tags: ['meta'],
    auth: ['admin', 'reviewer', 'supplier'],
    responses: {
      200: {
        description: 'connection details',
        schema: z
          .object({
            mqtt: z.object({ host: z.string(), port: z.number().int(), tlsPort: z.number().int().optional() }),
            heartbeatTopic: z.string(),
            credentials: z.string(),
            payloadExample: z.record(z.string(), z.unknown()),
          })
          .meta({ id: 'ConnectionInfo' }),
      },
    },
    handler({ deps }) {
      return {
        status: 200,
        body: {
          ...deps.connectionInfo(),
          heartbeatTopic: 'v1/devices/{deviceId}/heartbeat',
          credentials: 'client id = username = device id; password = device token',
          payloadExample: { seq: 17, ts: '2020-10-09T08:00:00+08:00', status: 'running', metrics: { spindleRpm: 1200 } },
        },
      };
    },
  }),
];
