import type { Server } from 'node:http';
import { join } from 'node:path';
import type { Express } from 'express';
import { createGatewayBroker, type GatewayBroker } from '../broker/create-broker.js';
import { createFloodControl } from '../broker/flood-control.js';
import { createHttpServer, createMetricsServer, listenHttp } from './api/http-server.js';
import { buildGatewayApp } from './api/gateway-app.js';
import { generateOpenApi } from './api/openapi-document.js';
import type { ApiDeps } from './api/routes/index.js';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { DATA_FILE, openDataDir } from './db/open-data-dir.js';
import { startPgListener } from './db/pg-listener.js';
import { openSqlDb, type SqlDb } from './db/sql-db.js';
import type { SqliteDb } from './db/sqlite.js';
import { createHeartbeatRateLimit } from './ingest/heartbeat-rate.js';
import { createEdgeSession } from './edge/index.js';
import { createClockDriftTracker } from './ingest/clock-drift.js';
import { createLockstepTracker } from './ingest/lockstep.js';
import { silentLogger, type Logger } from './log.js';
import { createMetrics, type Metrics } from './metrics.js';
import { createAuditLog, createRegistry, EDGE_NODE_ID_RE, SESSION_TAKEOVER_CHANNEL, type Registry } from './registry/index.js';
import {
  createDeviceBanSharer,
  createDeviceDirectory,
  createEvidenceFlusher,
  createHeartbeatAdmission,
  createRawRetention,
  createSessionCoordinator,
  createVerificationService,
  recordBan,
  registryVerificationSources,
  startNodeAnnouncer,
  startSessionWatch,
  type NodeAnnouncer,
  type SessionCloser,
  type SessionCoordinator,
  type SessionWatch,
  type VerificationService,
} from './services/index.js';
import { createSigner, createTrust, type Trust } from './trust/index.js';
import { createEdgeEvidence, createEvidenceStore, createGroupCommitter, createSqliteTelemetryStore, type TelemetryStore } from './telemetry/index.js';
import { compileTrustedProxies } from './trusted-proxies.js';
import { DEFAULT_ACTIVITY_POLICY } from './verifier/index.js';

export interface GatewayOptions {
  config: Readonly<Config>;
  clock?: Clock;
  log?: Logger;
}

/** A wired gateway that opens no socket until `listenGateway` (fastify's build / listen). */
export interface Gateway {
  config: Readonly<Config>;
  clock: Clock;
  db: SqliteDb;
  /** The registry's database: the data dir's SQLite file or PostgreSQL (GATEWAY_DATABASE_URL). */
  sql: SqlDb;
  registry: Registry;
  trust: Trust;
  store: TelemetryStore;
  verification: VerificationService;
  metrics: Metrics;
  broker: GatewayBroker;
  app: Express;
  /** Set only when an admin key was generated on this start (printed once by main). */
  generatedAdminKey?: string;
  /** Refreshes this node's row in the registry now (GET /v1/cluster/nodes); no-op before `listen`. */
  announceNow(): Promise<void>;
  /** Closes this node's sessions taken over on other nodes now (PostgreSQL; otherwise 0); how many. */
  reconcileSessions(): Promise<number>;
  /** Waits until every heartbeat handed to the committer is durable, stores queued evidence, and shares the bans decided so far. */
  flush(): Promise<void>;
  /** Opens the MQTT (and TLS) and HTTP listeners; port 0 picks free ports. */
  listen(): Promise<ListeningGateway>;
  /** Stops listening (if it did), flushes the last batch so every acknowledged heartbeat is durable, closes the stores. */
  close(): Promise<void>;
}

export interface ListeningGateway extends Gateway {
  httpPort: number;
  /** Set when GATEWAY_METRICS_PORT is: the separate metrics listener's port. */
  metricsPort?: number;
  mqttPort: number;
  mqttTlsPort?: number;
}

/**
 * Clock-drift segments (SHARED_CLOCK) break at an offset jump above stepMs (an SNTP step of a
 * device drifting 20 ppm for an hour is 72 ms; delivery jitter of a cellular link is tens of ms)
 * or a gap above gapMs (a silent device's segment closes so the verifier sees it).
 */
const CLOCK_DRIFT = { stepMs: 50, gapMs: 15 * 60_000 };

/** Each node refreshes its row in the registry (GET /v1/cluster/nodes) this often; three missed refreshes and it is not listed. */
const NODE_ANNOUNCE_EVERY_MS = 5_000;

/** Raw heartbeats past their retention are pruned this often (and once at start). */
const RAW_PRUNE_EVERY_MS = 3600_000;

/** Wires config → stores → use-cases → broker and API. Opens the data dir, no socket. */
export async function buildGateway(options: GatewayOptions): Promise<Gateway> {
  const { config } = options;
  const clock = options.clock ?? systemClock;
  const log = options.log ?? silentLogger;
  const metrics = createMetrics();

  // The key file lives in the data dir by default: created after the database, so a read-only or full dir is named as such.
  const { db, value: signer } = openDataDir(config.dataDir, () => createSigner({ file: config.signingKeyFile, log: log.child({ component: 'trust' }) }));
  const sql = openSqlDb(
    config.registryDatabase.kind === 'postgres' ? config.registryDatabase : { kind: 'sqlite', file: join(config.dataDir, DATA_FILE) },
  );
  const registry = await createRegistry({ sql, clock, log, signer });
  const trust = createTrust({ sql, clock, log, signer, checkIntervalMs: config.auditCheckIntervalMs });
  const generatedAdminKey = (await registry.apiKeys.bootstrapAdmin(config.adminKey)).key;
  const { store, prune } = await openTelemetryStore(config, db, log, clock);
  // The ingest evidence lives in the registry's database (SQLite file or PostgreSQL), its migrations applied here.
  const evidence = await createEvidenceStore(sql, clock);
  const edgeEvidence = createEdgeEvidence(sql);
  const clockDrift = createClockDriftTracker(CLOCK_DRIFT);
  const evidenceFlusher = createEvidenceFlusher({
    // Edge evidence (issue 20) is stored on the same cadence as the rest.
    evidence: {
      pendingWrites: () => evidence.pendingWrites() + edgeEvidence.pendingWrites(),
      flush: async () => (await evidence.flush()) + (await edgeEvidence.flush()),
    },
    intervalMs: config.evidenceFlushMs,
    log,
    clockDrift: { tracker: clockDrift, clock, into: evidence },
  });
  const rawRetention = prune && config.rawRetentionDays > 0 ? createRawRetention({ prune, clock, everyMs: RAW_PRUNE_EVERY_MS, log }) : undefined;

  const securityAudit = { audit: createAuditLog(sql, clock), log };
  // Counted per node, banned everywhere: a flapping ban goes to the registry for the other nodes
  // (README "Limits across nodes"); per-address limits stay per node under `balance source`.
  const bansShared = createDeviceBanSharer({ bans: registry.deviceBans, nodeId: config.nodeId, log });
  const flood = createFloodControl({
    clock,
    metrics,
    limits: config.floodControl,
    onBan: (reason, subject, until) => {
      recordBan(securityAudit, reason, subject, until);
      if (reason === 'flapping') bansShared.share(subject, until, reason);
    },
  });

  // One session per device across nodes needs what only PostgreSQL has here (LISTEN/NOTIFY, other
  // nodes): on SQLite there is one node, and aedes alone keeps one session per client id.
  const sessions =
    config.registryDatabase.kind === 'postgres'
      ? createSessionCoordinator({
          sessions: registry.deviceSessions,
          nodeId: config.nodeId,
          clock,
          connections: evidence,
          log: log.child({ component: 'sessions' }),
          onSuperseded: (by) => metrics.sessionsTakenOver.inc({ by }),
        })
      : undefined;

  const committer = createGroupCommitter({
    store,
    intervalMs: config.commit.intervalMs,
    maxBatch: config.commit.maxBatch,
    log: log.child({ component: 'commit' }),
    onCommit({ size, durationMs }) {
      metrics.commitBatchSize.observe(size);
      metrics.commitSeconds.observe(durationMs / 1000);
      metrics.heartbeatsAccepted.inc(size);
    },
  });

  const admitHeartbeat = createHeartbeatAdmission({
    clock,
    rate: createHeartbeatRateLimit({ ratePerMin: config.floodControl.deviceRatePerMin, burst: config.floodControl.deviceBurst }),
    lockstep: createLockstepTracker({ windowMs: config.lockstepWindowMs }),
    clockDrift,
    sink: committer,
    rejections: evidence,
    log: log.child({ component: 'ingest' }),
    onRejected: (reason) => metrics.heartbeatsRejected.inc({ reason }),
    ...(sessions ? { sessions } : {}),
  });

  const trustedProxies = compileTrustedProxies(config.trustedProxies);
  const broker = await createGatewayBroker(
    {
      clock,
      trustedProxies,
      directory: createDeviceDirectory(registry, { clock, adopt: (deviceId, until) => flood.adoptDeviceBan(deviceId, until) }),
      connections: evidence,
      admitHeartbeat,
      metrics,
      log: log.child({ component: 'broker' }),
      admitConnection: (source) => flood.admitAddress(source),
      flapping: flood,
      edge: {
        isEdgeNode: (id) => EDGE_NODE_ID_RE.test(id),
        async open(edgeNodeId, source) {
          const node = await registry.edgeNodes.authInfo(edgeNodeId);
          if (!node) return undefined;
          return createEdgeSession(
            {
              clock,
              admitHeartbeat,
              bindings: registry.edgeNodes,
              rejections: evidence,
              evidence: edgeEvidence,
              onRejected: (reason) => metrics.heartbeatsRejected.inc({ reason }),
              onRefused: (reason) => metrics.publishDenied.inc({ reason }),
              log: log.child({ component: 'edge', edgeNodeId }),
            },
            { edgeNodeId, contractId: node.contractId, supplierId: node.supplierId, source },
          );
        },
      },
      authFailures: flood,
      ...(sessions ? { sessions } : {}),
    },
    config.mqttLimits,
  );

  const verification = createVerificationService({
    store,
    defaultPolicy: DEFAULT_ACTIVITY_POLICY,
    observe: (s) => metrics.verificationSeconds.observe(s),
    sources: registryVerificationSources(registry, evidence, edgeEvidence),
  });

  const mqttAddress: { port: number; tlsPort?: number } = { port: config.mqtt.port };
  let openapi: Record<string, unknown> | undefined;
  const deps: ApiDeps = {
    config,
    clock,
    registry,
    sessions: closeSessionsEverywhere(broker, sessions),
    verification,
    metrics,
    contractOwner: (id) => registry.contracts.get(id),
    edgeStatus: (id) => broker.edgeStatus(id),
    nodeId: config.nodeId,
    nodeLiveWithinMs: 3 * NODE_ANNOUNCE_EVERY_MS,
    health: () => ({
      node: config.nodeId,
      store: store.health(),
      registry: sql.health(),
      mqtt: { connections: broker.aedes.connectedClients },
      auditLog: trust.integrity.state(),
    }),
    trust,
    connectionInfo: () => ({ mqtt: { host: config.mqtt.host, ...mqttAddress } }),
    openapi: () => (openapi ??= generateOpenApi()),
  };
  const app = buildGatewayApp({
    deps,
    authenticate: async (key) => {
      const principal = await registry.apiKeys.authenticate(key);
      if (!principal) metrics.apiAuthFailures.inc();
      return principal;
    },
    clock,
    throttle: config.apiAuthThrottle,
    onThrottleBan: (address, until) => {
      metrics.bans.inc({ reason: 'api-auth-failures' });
      recordBan(securityAudit, 'api-auth-failures', address, until);
    },
    log: log.child({ component: 'api' }),
    trustedProxies,
  });

  let server: Server | undefined;
  let metricsServer: Server | undefined;
  let metricsPort: number | undefined;
  let closing: Promise<void> | undefined;
  let announcer: NodeAnnouncer | undefined;
  let sessionWatch: SessionWatch | undefined;
  const gateway: Gateway = {
    config,
    clock,
    db,
    sql,
    registry,
    trust,
    store,
    verification,
    metrics,
    broker,
    app,
    ...(generatedAdminKey ? { generatedAdminKey } : {}),
    announceNow: async () => announcer?.announceNow(),
    reconcileSessions: async () => (await sessionWatch?.reconcileNow()) ?? 0,
    async flush() {
      await committer.flush();
      await evidenceFlusher.flush();
      await bansShared.settled();
    },
    close() {
      closing ??= (async () => {
        if (server) {
          server.closeAllConnections();
          await new Promise<void>((resolve) => server!.close(() => resolve()));
        }
        if (metricsServer) {
          metricsServer.closeAllConnections();
          await new Promise<void>((resolve) => metricsServer!.close(() => resolve()));
        }
        await announcer?.leave();
        await sessionWatch?.stop();
        // Before the broker closes its clients: the node's rows go in one statement, not one per device.
        await sessions?.stop();
        await broker.close();
        await bansShared.settled();
        await committer.close();
        rawRetention?.stop();
        evidenceFlusher.stop();
        clockDrift.closeIdle(Number.POSITIVE_INFINITY); // the segments still open are kept, not lost
        evidence.addClockSegments(clockDrift.take());
        // Joins a flush the timer started, then stores the rest; before the database closes.
        await evidence.flush();
        await edgeEvidence.flush();
        await trust.close();
        await store.close();
        await sql.close();
        db.close();
        log.info('gateway closed');
      })();
      return closing;
    },
    async listen() {
      if (sessions && config.registryDatabase.kind === 'postgres') {
        sessionWatch = watchSessions(sessions, config.registryDatabase.url, config, log.child({ component: 'sessions' }));
        // Take-over notices reach this node from its first CONNECT on.
        await sessionWatch.ready;
      }
      Object.assign(mqttAddress, await broker.listen(config.mqtt.host, config.mqtt.port, config.mqtt.tls));
      server = createHttpServer(app, config.httpLimits, metrics, trustedProxies);
      const httpPort = await listenHttp(server, config.http.host, config.http.port);
      if (config.metrics) {
        metricsServer = createMetricsServer(metrics, config.httpLimits);
        metricsPort = await listenHttp(metricsServer, config.metrics.host, config.metrics.port);
      }
      announcer = startNodeAnnouncer({
        nodes: registry.clusterNodes,
        clock,
        self: { id: config.nodeId, pid: process.pid, host: config.mqtt.host, mqttPort: mqttAddress.port, httpPort, startedAt: clock.now() },
        stats: async () => ({
          connectedDevices: broker.aedes.connectedClients,
          heartbeatsAccepted: (await metrics.heartbeatsAccepted.get()).values.reduce((sum, v) => sum + v.value, 0),
        }),
        everyMs: NODE_ANNOUNCE_EVERY_MS,
        log,
      });
      // Listed once listening: the first refresh is part of the start, not left to the timer.
      await announcer.announceNow();
      log.info({ node: config.nodeId, httpPort, mqttPort: mqttAddress.port, tlsPort: mqttAddress.tlsPort, store: store.kind }, 'gateway listening');
      return Object.assign(gateway, {
        httpPort,
        ...(metricsPort === undefined ? {} : { metricsPort }),
        mqttPort: mqttAddress.port,
        ...(mqttAddress.tlsPort === undefined ? {} : { mqttTlsPort: mqttAddress.tlsPort }),
      });
    },
  };
  return gateway;
}

/** build + listen: what `npm start` and the tests that need sockets call. */
export async function startGateway(options: GatewayOptions): Promise<ListeningGateway> {
  const gateway = await buildGateway(options);
  try {
    return await gateway.listen();
  } catch (err) {
    await gateway.close();
    throw err;
  }
}

/**
 * A rotated token or a disabled device ends the device's session at once on this node, and on
 * whichever other node holds it through the session row's revocation (notice, or that node's
 * next reconcile). Edge nodes hold no session row: only this node's connection is closed.
 */
function closeSessionsEverywhere(broker: GatewayBroker, sessions: SessionCoordinator | undefined): SessionCloser {
  return {
    async disconnect(deviceId) {
      broker.disconnect(deviceId);
      await sessions?.revoke(deviceId);
    },
  };
}

/** LISTEN for take-over notices on a connection of its own, and reconcile every GATEWAY_SESSION_RECONCILE_MS. */
function watchSessions(coordinator: SessionCoordinator, url: string, config: Readonly<Config>, log: Logger): SessionWatch {
  return startSessionWatch({
    coordinator,
    listen: (handlers) =>
      startPgListener({
        url,
        channel: SESSION_TAKEOVER_CHANNEL,
        applicationName: `gateway-sessions:${config.nodeId}`.slice(0, 63),
        ...handlers,
        onError: (err, retryInMs) => log.warn({ err: err.message, retryInMs }, 'session notices not received; reconnecting'),
      }),
    everyMs: config.sessionReconcileMs,
    log,
  });
}

/** The telemetry store of the configuration; the InfluxDB and PostgreSQL clients are loaded only when configured. */
async function openTelemetryStore(
  config: Readonly<Config>,
  db: SqliteDb,
  log: Logger,
  clock: Clock,
): Promise<{ store: TelemetryStore; prune?: (nowMs: number) => number | Promise<number> }> {
  if (config.store.kind === 'influx') {
    const { createInfluxTelemetryStore } = await import('./telemetry/influx/index.js');
    // InfluxDB ages raw points out by its own retention policy.
    const store = await createInfluxTelemetryStore({
      url: config.store.url,
      retentionDays: config.store.retentionDays,
      bufferMax: config.store.bufferMax,
      log: log.child({ component: 'influx' }),
    });
    return { store };
  }
  if (config.store.kind === 'postgres') {
    const { createPostgresTelemetryStore } = await import('./telemetry/postgres/index.js');
    const store = await createPostgresTelemetryStore({
      url: config.store.url,
      clock,
      rawRetentionDays: config.rawRetentionDays,
      log: log.child({ component: 'postgres' }),
    });
    return { store, prune: (nowMs) => store.prune(nowMs) };
  }
  const store = createSqliteTelemetryStore({ db, rawRetentionDays: config.rawRetentionDays, log: log.child({ component: 'telemetry' }) });
  return { store, prune: (nowMs) => store.prune(nowMs) };
}
