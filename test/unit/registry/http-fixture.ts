/** The registry API on a loopback port, over a temp-dir SQLite file; closes itself. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildApp } from '../../../src/api/app.js';
import type { RouteSpec } from '../../../src/api/route.js';
import { overviewRoutes, type OverviewRouteDeps } from '../../../src/api/routes/overview.js';
import { redemptionRoutes } from '../../../src/api/routes/redemption.js';
import { registryRoutes, type RegistryRouteDeps } from '../../../src/api/routes/registry.js';
import { verificationRoutes } from '../../../src/api/routes/verification.js';
import { createVerificationService, registryVerificationSources } from '../../../src/services/verification.js';
import { createEvidenceStore, createSqliteTelemetryStore } from '../../../src/telemetry/index.js';
import { DEFAULT_ACTIVITY_POLICY } from '../../../src/verifier/index.js';
import { silentLogger } from '../../../src/log.js';
import type { VoucherEngine } from '../../../src/registry/index.js';
import { openTestRegistry, type TestRegistry } from './fixtures.js';

export interface RegistryServer extends TestRegistry {
  baseUrl: string;
  request(method: string, path: string, options?: { key?: string | null; body?: unknown; rawBody?: string }): Promise<Response>;
}

export async function startRegistryServer(options: { engine?: VoucherEngine } = {}): Promise<RegistryServer> {
  const t = await openTestRegistry(options);
  // The contract list and verification routes read activity too: an empty store on the same file.
  const verification = createVerificationService({
    store: createSqliteTelemetryStore({ db: t.db }),
    defaultPolicy: DEFAULT_ACTIVITY_POLICY,
    sources: registryVerificationSources(t.registry, await createEvidenceStore(t.sql, t.clock)),
  });
  const deps: RegistryRouteDeps & OverviewRouteDeps = {
    registry: t.registry,
    // No broker in this fixture, so no device ever holds a session to close.
    sessions: { disconnect: async () => undefined },
    clock: t.clock,
    verification,
    contractOwner: (id) => t.registry.contracts.get(id),
  };
  const app = buildApp<typeof deps>({
    routes: [...registryRoutes, ...overviewRoutes, ...verificationRoutes, ...redemptionRoutes] as RouteSpec<any, any, any, typeof deps>[],
    deps,
    authenticate: (key) => t.registry.apiKeys.authenticate(key),
    log: silentLogger,
  });
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    ...t,
    baseUrl,
    request(method, path, { key, body, rawBody } = {}) {
      const headers: Record<string, string> = {};
      if (key) headers.authorization = `Bearer ${key}`;
      if (body !== undefined || rawBody !== undefined) headers['content-type'] = 'application/json';
      return fetch(baseUrl + path, {
        method,
        headers,
        ...(rawBody !== undefined ? { body: rawBody } : body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await t.close();
    },
  };
}
