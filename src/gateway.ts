import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { accessSync, constants as fsConstants } from 'node:fs';
import { join } from 'node:path';
import type { Express } from 'express';
import { createGatewayBroker, type GatewayBroker } from '../broker/create-broker.js';
import { createFloodControl } from '../broker/flood-control.js';
import { buildApp } from './api/app.js';
import { authFailureThrottle } from './api/rate-limit.js';
import { generateOpenApi } from './api/openapi-document.js';
import { allRoutes, type ApiDeps } from './api/routes/index.js';
import { mountWebPage } from './api/static.js';
import { securityHeaders } from './api/security.js';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { openDatabase, type SqliteDb } from './db/sqlite.js';
import { createLockstepTracker } from './ingest/lockstep.js';
import { createHeartbeatPipeline } from './ingest/pipeline.js';
import { silentLogger, type Logger } from './log.js';
import { createMetrics, type Metrics } from './metrics.js';
import { createAuditLog } from './registry/audit.js';
import { createRegistry, type Registry } from './registry/index.js';
import { createVerificationService, registryVerificationSources, type VerificationService } from './services/verification.js';
import { createEvidenceStore, createGroupCommitter, createSqliteTelemetryStore } from './telemetry/index.js';
import type { TelemetryStore } from './telemetry/types.js';
import { DEFAULT_ACTIVITY_POLICY } from './verifier/index.js';

export interface GatewayOptions {
  config: Readonly<Config>;
  clock?: Clock;
  log?: Logger;
}

export interface Gateway {
  config: Readonly<Config>;
  clock: Clock;
  db: SqliteDb;
  registry: Registry;
  store: TelemetryStore;
  verification: VerificationService;
  metrics: Metrics;
  broker: GatewayBroker;
  app: Express;
  httpPort: number;
  mqttPort: number;
  mqttTlsPort?: number;
  /** Set only when an admin key was generated on this start (printed once by main). */
  generatedAdminKey?: string;
  /** Waits until every heartbeat handed to the committer is durable. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** Lock-step window: heartbeats of one source within this many ms arrive "together". */
const LOCKSTEP_WINDOW_MS = 5;

/**
 * Wires config → stores → broker → API and starts listening (STYLE: build, then start).
 * Tests call this with port 0, a temporary data dir and a VirtualClock.
 */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { config } = options;
  const clock = options.clock ?? systemClock;
  const log = options.log ?? silentLogger;
  const metrics = createMetrics();

  const { db, registry, generatedAdminKey } = openDataDir(config.dataDir, () => {
    const db = openDatabase(join(config.dataDir, 'gateway.db'));
    // SQLite silently opens a file it cannot write read-only; refuse that here, not at the first heartbeat.
    accessSync(join(config.dataDir, 'gateway.db'), fsConstants.W_OK);
    const registry = createRegistry({ db, clock, log });
    return { db, registry, generatedAdminKey: registry.apiKeys.bootstrapAdmin(config.adminKey).key };
  });

  // The InfluxDB client is loaded only when configured.
  const store: TelemetryStore =
    config.store.kind === 'influx'
      ? await (await import('./telemetry/influx/index.js')).createInfluxTelemetryStore({
          url: config.store.url,
          retentionDays: config.store.retentionDays,
          bufferMax: config.store.bufferMax,
          log: log.child({ component: 'influx' }),
        })
      : createSqliteTelemetryStore({ db, rawRetentionDays: config.rawRetentionDays, log: log.child({ component: 'telemetry' }) });
  const evidence = createEvidenceStore(db);

  const committer = createGroupCommitter({
    store,
    intervalMs: config.commit.intervalMs,
    maxBatch: config.commit.maxBatch,
    log: log.child({ component: 'commit' }),
    onCommit({ size, durationMs }) {
      metrics.commitBatchSize.observe(size);
      metrics.commitSeconds.observe(durationMs / 1000);
      metrics.heartbeatsAccepted.inc(size);
      // Rejection counters and connection events ride on the commit cadence: one small transaction per batch at most.
      if (evidence.pendingWrites() > 0) evidence.flush();
    },
  });

  // And once a second for what no commit carries: a reconnect storm, devices sending only rejected messages.
  const evidenceFlusher = setInterval(() => {
    try {
      if (evidence.pendingWrites() > 0) evidence.flush();
    } catch (err) {
      // Disk full or read-only: the counters stay pending and are retried on the next tick.
      log.error({ err }, 'connection events and rejection counters not flushed');
    }
  }, 1000);
  evidenceFlusher.unref();

  // Every ban is a security decision: recorded in the audit log (never allowed to break ingestion).
  // The registry exposes only reads of the log; bans are appended through the log itself.
  const securityAudit = createAuditLog(db, clock);
  const auditBan = (reason: string, subject: string, until: number) => {
    try {
      securityAudit.append('system', 'security.ban', subject, { reason, until: new Date(until).toISOString() });
    } catch (err) {
      log.error({ err, reason }, 'ban not recorded in the audit log');
    }
  };
  const flood = createFloodControl({ clock, metrics, limits: config.floodControl, onBan: auditBan });

  const pipeline = createHeartbeatPipeline({
    clock,
    sink: committer,
    rejections: evidence,
    lockstep: createLockstepTracker({ windowMs: LOCKSTEP_WINDOW_MS }),
    log: log.child({ component: 'ingest' }),
    hooks: {
      rejected: (_ctx, reason) => metrics.heartbeatsRejected.inc({ reason }),
      allow: (ctx, receivedAt) => flood.allowHeartbeat(ctx, receivedAt),
    },
  });

  const broker = await createGatewayBroker({
    clock,
    directory: {
      verifyToken: (id, token) => registry.devices.verifyToken(id, token),
      facts(id) {
        const info = registry.devices.authInfo(id);
        return info && { deviceId: info.deviceId, contractId: info.contractId, supplierId: info.supplierId };
      },
    },
    connections: evidence,
    pipeline,
    metrics,
    log: log.child({ component: 'broker' }),
    admitConnection: (source) => flood.admitAddress(source),
    flapping: flood,
  }, config.mqttLimits);

  // A rotated token or a disabled device must not keep a session opened with the old
  // credentials (SECURITY.md "leaked device token"): close it as the change is made.
  const { devices } = registry;
  const rotateToken = devices.rotateToken.bind(devices);
  const setEnabled = devices.setEnabled.bind(devices);
  devices.rotateToken = (id, ...rest) => {
    const issued = rotateToken(id, ...rest);
    broker.disconnect(id);
    return issued;
  };
  devices.setEnabled = (id, enabled, ...rest) => {
    const device = setEnabled(id, enabled, ...rest);
    if (!enabled) broker.disconnect(id);
    return device;
  };

  const verification = createVerificationService({
    store,
    defaultPolicy: DEFAULT_ACTIVITY_POLICY,
    observe: (s) => metrics.verificationSeconds.observe(s),
    sources: registryVerificationSources(registry, evidence),
  });

  const mqttAddress = await broker.listen(config.mqtt.host, config.mqtt.port, config.mqtt.tls);

  let openapi: Record<string, unknown> | undefined;
  const deps: ApiDeps = {
    config,
    clock,
    registry,
    verification,
    metrics,
    contractOwner: (id) => registry.contracts.get(id),
    health: () => ({ store: store.health(), mqtt: { connections: broker.aedes.connectedClients } }),
    connectionInfo: () => ({
      mqtt: {
        host: config.mqtt.host,
        port: mqttAddress.port,
        ...(mqttAddress.tlsPort === undefined ? {} : { tlsPort: mqttAddress.tlsPort }),
      },
    }),
    openapi: () => (openapi ??= generateOpenApi()),
  };
  const app = buildApp({
    routes: allRoutes,
    deps,
    authenticate: (key) => {
      const principal = registry.apiKeys.authenticate(key);
      if (!principal) metrics.apiAuthFailures.inc();
      return principal;
    },
    log: log.child({ component: 'api' }),
    before(app) {
      securityHeaders(app);
      app.use(authFailureThrottle({ clock, limits: config.apiAuthThrottle, onBan: (address, until) => {
        metrics.bans.inc({ reason: 'api-auth-failures' });
        auditBan('api-auth-failures', address, until);
      } }));
      mountWebPage(app);
    },
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.http.port, config.http.host, (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  const httpPort = (server.address() as AddressInfo).port;
  log.info({ httpPort, mqttPort: mqttAddress.port, tlsPort: mqttAddress.tlsPort, store: store.kind }, 'gateway listening');

  let closing: Promise<void> | undefined;
  return {
    config,
    clock,
    db,
    registry,
    store,
    verification,
    metrics,
    broker,
    app,
    httpPort,
    mqttPort: mqttAddress.port,
    ...(mqttAddress.tlsPort === undefined ? {} : { mqttTlsPort: mqttAddress.tlsPort }),
    ...(generatedAdminKey ? { generatedAdminKey } : {}),
    flush: () => committer.flush(),
    close() {
      closing ??= (async () => {
        // Stop accepting, then flush the last batch so every acknowledged heartbeat is durable.
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await broker.close();
        await committer.close();
        clearInterval(evidenceFlusher);
        evidence.flush();
        await store.close();
        db.close();
        log.info('gateway closed');
      })();
      return closing;
    },
  };
}

/**
 * Runs the start-up steps that touch the data dir; a storage failure (SQLite or file-system
 * error: read-only, full, missing, no permission) is rethrown naming the directory (SECURITY.md).
 */
function openDataDir<T>(dataDir: string, open: () => T): T {
  try {
    return open();
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    if (typeof code !== 'string' || !/^(SQLITE_|E[A-Z]+$)/.test(code)) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(
      `cannot use the database in GATEWAY_DATA_DIR=${dataDir} (${code}: ${reason}); check that the directory exists, is writable and has free space`,
      { cause: err },
    );
  }
}
