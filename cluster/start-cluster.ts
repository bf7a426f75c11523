/**
 * Several gateway nodes on one machine behind one address (issue 17): PostgreSQL (a temporary
 * cluster, or the one given), N gateway processes sharing it, HAProxy in front. What
 * `npm run cluster` runs, and what the fail-over tests and `npm run bench -- cluster` drive.
 *
 * The nodes are stateless: the registry, money ledger, audit log, evidence, sessions and
 * heartbeats are all in PostgreSQL. Each node keeps its own ports for its whole life (HAProxy's
 * configuration names them), so a node stopped and started again is found where it was.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { defaultMaxConnections, HAPROXY_DEFAULTS, haproxyServers, startHaproxy, type RunningHaproxy } from './haproxy.js';
import { spawnNode, type NodeProcess } from './node-process.js';
import { startPostgres, type PostgresServer } from './postgres-server.js';
import { freePort, sleep } from './processes.js';

export interface ClusterOptions {
  nodes: number;
  /** An existing PostgreSQL database for everything; omitted = a temporary PostgreSQL 15 cluster. */
  databaseUrl?: string;
  mqttHost: string;
  /** HAProxy's MQTT port (0 = a free one). */
  mqttPort: number;
  httpHost: string;
  /** HAProxy's HTTP port (0 = a free one). */
  httpPort: number;
  /** Omitted = a random key, printed by the CLI. */
  adminKey?: string;
  /** More environment for every node (GATEWAY_* variables), e.g. log level or limits. */
  nodeEnv?: Record<string, string>;
  /** PROXY protocol v2 from HAProxy to the nodes (they then trust 127.0.0.1 as a proxy). */
  proxyProtocol?: boolean;
  /** Where nodes keep their data dirs and the shared signing key; omitted = a temporary directory, removed at stop. */
  workDir?: string;
  maxConnections?: number;
}

export interface ClusterNode {
  id: string;
  mqttPort: number;
  httpPort: number;
  /** The running process; undefined while the node is stopped. */
  process: NodeProcess | undefined;
}

export interface Cluster {
  mqttUrl: string;
  httpUrl: string;
  mqttPort: number;
  httpPort: number;
  adminKey: string;
  /** True when no admin key was given and the cluster made one. */
  generatedAdminKey: boolean;
  databaseUrl: string;
  postgres: PostgresServer | undefined;
  haproxy: RunningHaproxy;
  statsPort: number;
  nodes: ClusterNode[];
  /** SIGKILL node i (no flush, no goodbye). */
  killNode(i: number): Promise<void>;
  /** SIGTERM node i and wait for its clean exit. */
  stopNode(i: number): Promise<number | null>;
  /** Start node i again on its ports; resolves once it listens. */
  startNode(i: number): Promise<void>;
  /** Resolves once HAProxy sees each listed node up (and every other node down). */
  waitForHaproxy(up: readonly number[], timeoutMs?: number): Promise<void>;
  /** Stops HAProxy, every node (SIGTERM) and the PostgreSQL it started; removes a temporary work dir. */
  stop(): Promise<void>;
}

export async function startCluster(options: Readonly<ClusterOptions>): Promise<Cluster> {
  const workDir = options.workDir ?? mkdtempSync(join(tmpdir(), 'gw-cluster-'));
  mkdirSync(workDir, { recursive: true });
  const started: Array<() => Promise<unknown>> = [];
  const undo = async () => {
    for (const stop of started.reverse()) await stop().catch(() => undefined);
    if (!options.workDir) rmSync(workDir, { recursive: true, force: true });
  };
  try {
    let postgres: PostgresServer | undefined;
    let databaseUrl = options.databaseUrl;
    if (!databaseUrl) {
      // Each node holds a registry pool, a telemetry pool and a listener: room for 16 nodes.
      postgres = await startPostgres({ maxConnections: 400 });
      started.push(() => postgres!.stop());
      databaseUrl = await createGatewayDatabase(postgres.url);
    }
    const adminKey = options.adminKey ?? randomBytes(24).toString('base64url');
    const proxyProtocol = options.proxyProtocol ?? HAPROXY_DEFAULTS.proxyProtocol;
    const nodes: ClusterNode[] = [];
    for (let i = 1; i <= options.nodes; i++) nodes.push({ id: `node-${i}`, mqttPort: await freePort(), httpPort: await freePort(), process: undefined });

    const envOf = (node: ClusterNode): Record<string, string> => ({
      GATEWAY_LOG_LEVEL: 'warn',
      ...options.nodeEnv,
      GATEWAY_NODE_ID: node.id,
      GATEWAY_HTTP_HOST: '127.0.0.1',
      GATEWAY_HTTP_PORT: String(node.httpPort),
      GATEWAY_MQTT_HOST: '127.0.0.1',
      GATEWAY_MQTT_PORT: String(node.mqttPort),
      GATEWAY_DATA_DIR: join(workDir, node.id),
      // One signing key for the cluster: a report signed by one node verifies with any node's JWKS.
      GATEWAY_SIGNING_KEY_FILE: join(workDir, 'signing-key.jwk'),
      GATEWAY_DATABASE_URL: databaseUrl!,
      GATEWAY_STORE: 'postgres',
      GATEWAY_ADMIN_KEY: adminKey,
      ...(proxyProtocol ? { GATEWAY_TRUSTED_PROXIES: '127.0.0.1' } : {}),
    });
    const startNode = async (i: number) => {
      const node = nodes[i]!;
      if (node.process) throw new Error(`${node.id} is running`);
      node.process = await spawnNode(envOf(node));
    };
    const stopNode = async (i: number) => {
      const p = nodes[i]!.process;
      nodes[i]!.process = undefined;
      return p ? p.stop() : null;
    };
    started.push(() => Promise.all(nodes.map((_, i) => stopNode(i))));
    // The first node alone: it runs the migrations, stores the admin key and writes the signing
    // key; the others then find all three.
    await startNode(0);
    await Promise.all(nodes.slice(1).map((_, i) => startNode(i + 1)));

    const mqttPort = options.mqttPort || (await freePort());
    const httpPort = options.httpPort || (await freePort());
    const statsPort = await freePort();
    const haproxy = await startHaproxy(
      {
        mqttHost: options.mqttHost,
        mqttPort,
        httpHost: options.httpHost,
        httpPort,
        statsPort,
        nodes: nodes.map((n) => ({ id: n.id, host: '127.0.0.1', mqttPort: n.mqttPort, httpPort: n.httpPort })),
        proxyProtocol,
        maxConnections: options.maxConnections ?? defaultMaxConnections(),
        checkIntervalMs: HAPROXY_DEFAULTS.checkIntervalMs,
      },
      workDir,
    );
    started.push(() => haproxy.stop());

    const waitForHaproxy = async (up: readonly number[], timeoutMs = 15_000) => {
      const want = (id: string) => (up.includes(nodes.findIndex((n) => n.id === id)) ? 'UP' : 'DOWN');
      for (let waited = 0; ; waited += 100) {
        const servers = await haproxyServers(statsPort);
        if (servers.every((s) => s.status.startsWith(want(s.server)))) return;
        if (waited >= timeoutMs) throw new Error(`HAProxy does not see nodes ${up.join(', ')} up: ${JSON.stringify(servers)}`);
        await sleep(100);
      }
    };
    await waitForHaproxy(nodes.map((_, i) => i));

    return {
      mqttUrl: `mqtt://${options.mqttHost}:${mqttPort}`,
      httpUrl: `http://${options.httpHost}:${httpPort}`,
      mqttPort,
      httpPort,
      adminKey,
      generatedAdminKey: options.adminKey === undefined,
      databaseUrl,
      postgres,
      haproxy,
      statsPort,
      nodes,
      async killNode(i) {
        const p = nodes[i]!.process;
        nodes[i]!.process = undefined;
        await p?.kill();
      },
      stopNode,
      startNode,
      waitForHaproxy,
      stop: undo,
    };
  } catch (err) {
    await undo();
    throw err;
  }
}

/** A `gateway` database on a fresh server, as a connection URL. */
async function createGatewayDatabase(serverUrl: string): Promise<string> {
  const client = new pg.Client(serverUrl);
  await client.connect();
  try {
    await client.query('CREATE DATABASE gateway');
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = '/gateway';
  return url.toString();
}
