/**
 * `npm run cluster`: PostgreSQL (a temporary cluster, or GATEWAY_DATABASE_URL), CLUSTER_NODES
 * gateway nodes (default 3) and HAProxy on GATEWAY_MQTT_PORT / GATEWAY_HTTP_PORT (defaults
 * 1883 / 8080). Prints the addresses and the admin key; Ctrl-C or SIGTERM stops everything it
 * started. Other GATEWAY_* variables are passed on to every node.
 */
import { z } from 'zod';
import { startCluster } from './start-cluster.js';

const port = z.coerce.number().int().min(0).max(65535);
const envSchema = z.object({
  CLUSTER_NODES: z.coerce.number().int().min(1).max(16).default(3),
  /** PROXY protocol v2 from HAProxy to the nodes; 0 turns it off (the nodes then see HAProxy's address). */
  CLUSTER_PROXY_PROTOCOL: z.enum(['0', '1']).default('1'),
  GATEWAY_MQTT_HOST: z.string().min(1).default('127.0.0.1'),
  GATEWAY_MQTT_PORT: port.default(1883),
  GATEWAY_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  GATEWAY_HTTP_PORT: port.default(8080),
  GATEWAY_DATABASE_URL: z.string().url().optional(),
  GATEWAY_ADMIN_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  GATEWAY_LOG_LEVEL: z.string().default('warn'),
});

/** Set by the launcher for each node; everything else GATEWAY_* is passed on unchanged. */
const PER_NODE = new Set(['GATEWAY_NODE_ID', 'GATEWAY_HTTP_HOST', 'GATEWAY_HTTP_PORT', 'GATEWAY_MQTT_HOST', 'GATEWAY_MQTT_PORT', 'GATEWAY_DATA_DIR', 'GATEWAY_STORE']);

async function main(): Promise<void> {
  const parsed = envSchema.safeParse(process.env);
  if (!parsed.success) {
    process.stderr.write(`npm run cluster: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}\n`);
    process.exit(2);
  }
  const env = parsed.data;
  const nodeEnv = Object.fromEntries(
    Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('GATEWAY_') && !PER_NODE.has(e[0]) && e[1] !== undefined),
  );
  process.stdout.write(`starting ${env.CLUSTER_NODES} gateway nodes${env.GATEWAY_DATABASE_URL ? '' : ', a temporary PostgreSQL'} and HAProxy…\n`);
  const cluster = await startCluster({
    nodes: env.CLUSTER_NODES,
    ...(env.GATEWAY_DATABASE_URL ? { databaseUrl: env.GATEWAY_DATABASE_URL } : {}),
    ...(env.GATEWAY_ADMIN_KEY ? { adminKey: env.GATEWAY_ADMIN_KEY } : {}),
    mqttHost: env.GATEWAY_MQTT_HOST,
    mqttPort: env.GATEWAY_MQTT_PORT,
    httpHost: env.GATEWAY_HTTP_HOST,
    httpPort: env.GATEWAY_HTTP_PORT,
    proxyProtocol: env.CLUSTER_PROXY_PROTOCOL === '1',
    nodeEnv: { ...nodeEnv, GATEWAY_LOG_LEVEL: env.GATEWAY_LOG_LEVEL },
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: stopping HAProxy, the nodes${cluster.postgres ? ' and PostgreSQL' : ''}…\n`);
    cluster.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`stop failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  const lines = [
    '',
    `cluster ready: ${cluster.httpUrl}/  ${cluster.mqttUrl}  (HAProxy, ${cluster.nodes.length} nodes)`,
    cluster.generatedAdminKey ? `admin API key (generated, set GATEWAY_ADMIN_KEY to choose): ${cluster.adminKey}` : 'admin API key: GATEWAY_ADMIN_KEY',
    `PostgreSQL: ${cluster.postgres ? `${cluster.databaseUrl} (temporary, removed at stop)` : 'GATEWAY_DATABASE_URL'}`,
    ...(cluster.postgres ? [`PostgreSQL data: ${cluster.postgres.dataDir}`] : []),
    `HAProxy statistics: http://127.0.0.1:${cluster.statsPort}/  (haproxy pid ${cluster.haproxy.process.pid})`,
    ...cluster.nodes.map((n) => `  ${n.id}: pid ${n.process?.process.pid}  http://127.0.0.1:${n.httpPort}/  mqtt://127.0.0.1:${n.mqttPort}`),
    'Ctrl-C stops everything.',
    '',
  ];
  process.stdout.write(lines.join('\n'));
}

main().catch((err: unknown) => {
  process.stderr.write(`npm run cluster failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
