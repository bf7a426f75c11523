import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { trustedProxyEntryProblem } from './trusted-proxies.js';

/**
 * The gateway's configuration: parsed once from the environment, frozen, passed down.
 * This is the only module that reads `process.env`. Names follow ../shared/API.md.
 */
const port = z.coerce.number().int().min(0).max(65535);

export const configSchema = z
  .object({
    GATEWAY_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
    GATEWAY_HTTP_PORT: port.default(8080),
    GATEWAY_MQTT_HOST: z.string().min(1).default('127.0.0.1'),
    GATEWAY_MQTT_PORT: port.default(1883),
    /** Optional MQTT over TLS: both files must be given to enable it. */
    GATEWAY_MQTT_TLS_PORT: port.default(8883),
    GATEWAY_MQTT_TLS_CERT: z.string().min(1).optional(),
    GATEWAY_MQTT_TLS_KEY: z.string().min(1).optional(),
    GATEWAY_DATA_DIR: z.string().min(1).default('./data'),
    /** Ed25519 JWK Set that signs reports, decisions and tree heads (src/trust); default <data dir>/signing-key.jwk. */
    GATEWAY_SIGNING_KEY_FILE: z.string().min(1).optional(),
    /** How often the audit log is held to its Merkle tree and signed heads (src/trust/integrity.ts); 0 = only at start. */
    GATEWAY_AUDIT_CHECK_INTERVAL_S: z.coerce.number().int().min(0).default(3600),
    GATEWAY_ADMIN_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
    GATEWAY_STORE: z.enum(['sqlite', 'influx', 'postgres']).default('sqlite'),
    /**
     * PostgreSQL for the registry, the money ledger and the audit log (issue 16) — and for the
     * telemetry too with GATEWAY_STORE=postgres. Unset: everything in the data dir's SQLite file.
     */
    GATEWAY_DATABASE_URL: z
      .url()
      .refine((u) => /^postgres(ql)?:\/\//.test(u), 'must be a postgres:// or postgresql:// URL')
      .optional(),
    GATEWAY_INFLUX_URL: z.url().optional(),
    GATEWAY_INFLUX_RETENTION_DAYS: z.coerce.number().int().min(1).default(400),
    GATEWAY_INFLUX_BUFFER_MAX: z.coerce.number().int().min(1).default(200_000),
    /** Group commit: a batch is written after this many ms or this many heartbeats. */
    GATEWAY_COMMIT_INTERVAL_MS: z.coerce.number().int().min(0).max(1000).default(5),
    GATEWAY_COMMIT_MAX_BATCH: z.coerce.number().int().min(1).max(100_000).default(2000),
    /** Raw heartbeats kept in SQLite as evidence for this many days (0 = none kept). */
    GATEWAY_RAW_RETENTION_DAYS: z.coerce.number().int().min(0).default(0),
    /** This node's name among the nodes sharing a registry (issue 17); default host name and pid. */
    GATEWAY_NODE_ID: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[\w.:-]+$/, 'letters, digits, _ . : - only')
      .optional(),
    /**
     * Load balancers allowed to tell the client's address (issue 17): a PROXY protocol header on
     * the MQTT listeners, X-Forwarded-For on the API. Comma-separated IPs and CIDRs; empty = none.
     */
    GATEWAY_TRUSTED_PROXIES: z
      .string()
      .default('')
      .transform((list) => list.split(',').map((e) => e.trim()).filter((e) => e !== ''))
      .superRefine((entries, ctx) => {
        for (const entry of entries) {
          const problem = trustedProxyEntryProblem(entry);
          if (problem) ctx.addIssue({ code: 'custom', message: `"${entry}" is not an IP address or CIDR (${problem})` });
        }
      }),
    /** With GATEWAY_DATABASE_URL: each node looks for its sessions taken over elsewhere this often, besides LISTEN/NOTIFY (src/services/device-sessions.ts). */
    GATEWAY_SESSION_RECONCILE_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
    GATEWAY_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Connection events and rejection counters are queued and stored together this often (src/services/flush-evidence.ts). */
    GATEWAY_EVIDENCE_FLUSH_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
    /** LOCKSTEP fingerprint: heartbeats of one source within this many ms arrive "together" (src/ingest/lockstep.ts). */
    GATEWAY_LOCKSTEP_WINDOW_MS: z.coerce.number().int().min(1).max(1000).default(5),
    /** Flood control (broker/flood-control.ts, SECURITY.md); 0 turns a limit off. */
    GATEWAY_DEVICE_MAX_RATE_PER_MIN: z.coerce.number().int().min(0).default(120),
    GATEWAY_DEVICE_BURST: z.coerce.number().int().min(1).default(20),
    /** Accepted MQTT connections per address: a token bucket refilled at RATE per WINDOW, BURST deep; never a ban. */
    GATEWAY_CONN_RATE_PER_ADDR: z.coerce.number().int().min(0).default(6000),
    GATEWAY_CONN_RATE_WINDOW_S: z.coerce.number().int().min(1).default(60),
    GATEWAY_CONN_BURST_PER_ADDR: z.coerce.number().int().min(1).default(1000),
    /** Failed MQTT authentications per address per window before a ban (a correct token still gets in). */
    GATEWAY_AUTH_FAILURES_PER_ADDR: z.coerce.number().int().min(0).default(100),
    GATEWAY_AUTH_FAILURE_WINDOW_S: z.coerce.number().int().min(1).default(60),
    /** `auth-failed` evidence rows per device per minute; the excess is counted, not stored. */
    GATEWAY_AUTH_FAILED_EVIDENCE_PER_MIN: z.coerce.number().int().min(0).default(10),
    GATEWAY_FLAP_CONNECTS: z.coerce.number().int().min(0).default(15),
    GATEWAY_FLAP_WINDOW_S: z.coerce.number().int().min(1).default(60),
    GATEWAY_BAN_SECONDS: z.coerce.number().int().min(1).default(300),
    /** Largest MQTT packet (remaining length) accepted; larger headers close the connection (broker/packet-guard.ts). */
    GATEWAY_MQTT_MAX_PACKET_BYTES: z.coerce.number().int().min(256).max(268_435_455).default(8192),
    GATEWAY_MQTT_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
    GATEWAY_MQTT_DRAIN_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
    /** API-key brute-force brake (src/api/rate-limit.ts): failures per address per window → 429 for the ban time. */
    GATEWAY_API_AUTH_FAILURES: z.coerce.number().int().min(0).default(10),
    GATEWAY_API_AUTH_WINDOW_S: z.coerce.number().int().min(1).default(60),
    GATEWAY_API_AUTH_BAN_SECONDS: z.coerce.number().int().min(1).default(300),
    /** Prometheus metrics on their own listener (no key); unset = only /metrics on the API listener, admin key required. */
    GATEWAY_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
    GATEWAY_METRICS_PORT: port.optional(),
    /** HTTP hardening (src/api/http-server.ts): open connections per address (0 = no cap), header and whole-request deadlines. */
    GATEWAY_HTTP_MAX_CONN_PER_ADDR: z.coerce.number().int().min(0).default(200),
    GATEWAY_HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
    GATEWAY_HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  })
  .superRefine((c, ctx) => {
    if (c.GATEWAY_STORE === 'influx' && !c.GATEWAY_INFLUX_URL) {
      ctx.addIssue({ code: 'custom', path: ['GATEWAY_INFLUX_URL'], message: 'required when GATEWAY_STORE=influx' });
    }
    if (c.GATEWAY_STORE === 'postgres' && !c.GATEWAY_DATABASE_URL) {
      ctx.addIssue({ code: 'custom', path: ['GATEWAY_DATABASE_URL'], message: 'required when GATEWAY_STORE=postgres' });
    }
    if (c.GATEWAY_HTTP_HEADERS_TIMEOUT_MS > c.GATEWAY_HTTP_REQUEST_TIMEOUT_MS) {
      ctx.addIssue({ code: 'custom', path: ['GATEWAY_HTTP_HEADERS_TIMEOUT_MS'], message: 'must not exceed GATEWAY_HTTP_REQUEST_TIMEOUT_MS' });
    }
    if (Boolean(c.GATEWAY_MQTT_TLS_CERT) !== Boolean(c.GATEWAY_MQTT_TLS_KEY)) {
      ctx.addIssue({
        code: 'custom',
        path: ['GATEWAY_MQTT_TLS_CERT'],
        message: 'GATEWAY_MQTT_TLS_CERT and GATEWAY_MQTT_TLS_KEY go together',
      });
    }
  });


export interface Config {
  http: { host: string; port: number };
  /** GATEWAY_NODE_ID, or `<host name>-<pid>`. */
  nodeId: string;
  mqtt: { host: string; port: number; tls?: { port: number; certFile: string; keyFile: string } };
  dataDir: string;
  adminKey?: string;
  signingKeyFile: string;
  auditCheckIntervalMs: number;
  /** Where the registry lives: the data dir's SQLite file, or PostgreSQL (GATEWAY_DATABASE_URL). */
  registryDatabase: { kind: 'sqlite' } | { kind: 'postgres'; url: string };
  /** Sessions across nodes (PostgreSQL only): the period of the reconcile behind LISTEN/NOTIFY. */
  sessionReconcileMs: number;
  store:
    | { kind: 'sqlite' }
    | { kind: 'influx'; url: string; retentionDays: number; bufferMax: number }
    | { kind: 'postgres'; url: string };
  commit: { intervalMs: number; maxBatch: number };
  rawRetentionDays: number;
  evidenceFlushMs: number;
  lockstepWindowMs: number;
  log: { level: string };
  /** GATEWAY_TRUSTED_PROXIES: the peers whose PROXY header / X-Forwarded-For is believed (src/trusted-proxies.ts). */
  trustedProxies: string[];
  floodControl: {
    deviceRatePerMin: number;
    deviceBurst: number;
    connectsPerAddress: number;
    connectWindowMs: number;
    connectBurst: number;
    authFailuresPerAddress: number;
    authFailureWindowMs: number;
    authFailedEvidencePerMin: number;
    flapConnects: number;
    flapWindowMs: number;
    banMs: number;
  };
  mqttLimits: { maxPacketBytes: number; connectTimeoutMs: number; drainTimeoutMs: number };
  apiAuthThrottle: { maxFailures: number; windowMs: number; banMs: number };
  /** Set: /metrics also served without a key on this separate listener (SECURITY.md). */
  metrics?: { host: string; port: number };
  httpLimits: { maxConnectionsPerAddress: number; headersTimeoutMs: number; requestTimeoutMs: number };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Parses an environment (default: the process's) into a frozen Config; fails naming every bad variable. */
/** The GATEWAY_* variables that are set (an empty value counts as unset): what every entry point reads. */
export function gatewayEnv(env: Record<string, string | undefined> = process.env): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[0].startsWith('GATEWAY_') && e[1] !== undefined && e[1] !== ''));
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Readonly<Config> {
  const parsed = configSchema.safeParse(gatewayEnv(env));
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`));
  }
  const c = parsed.data;
  const config: Config = {
    http: { host: c.GATEWAY_HTTP_HOST, port: c.GATEWAY_HTTP_PORT },
    nodeId: c.GATEWAY_NODE_ID ?? `${hostname()}-${process.pid}`,
    mqtt: {
      host: c.GATEWAY_MQTT_HOST,
      port: c.GATEWAY_MQTT_PORT,
      ...(c.GATEWAY_MQTT_TLS_CERT && c.GATEWAY_MQTT_TLS_KEY
        ? { tls: { port: c.GATEWAY_MQTT_TLS_PORT, certFile: c.GATEWAY_MQTT_TLS_CERT, keyFile: c.GATEWAY_MQTT_TLS_KEY } }
        : {}),
    },
    dataDir: c.GATEWAY_DATA_DIR,
    signingKeyFile: c.GATEWAY_SIGNING_KEY_FILE ?? join(c.GATEWAY_DATA_DIR, 'signing-key.jwk'),
    auditCheckIntervalMs: c.GATEWAY_AUDIT_CHECK_INTERVAL_S * 1000,
    ...(c.GATEWAY_ADMIN_KEY ? { adminKey: c.GATEWAY_ADMIN_KEY } : {}),
    registryDatabase: c.GATEWAY_DATABASE_URL ? { kind: 'postgres', url: c.GATEWAY_DATABASE_URL } : { kind: 'sqlite' },
    sessionReconcileMs: c.GATEWAY_SESSION_RECONCILE_MS,
    store:
      c.GATEWAY_STORE === 'influx'
        ? {
            kind: 'influx',
            url: c.GATEWAY_INFLUX_URL!,
            retentionDays: c.GATEWAY_INFLUX_RETENTION_DAYS,
            bufferMax: c.GATEWAY_INFLUX_BUFFER_MAX,
          }
        : c.GATEWAY_STORE === 'postgres'
          ? { kind: 'postgres', url: c.GATEWAY_DATABASE_URL! }
          : { kind: 'sqlite' },
    commit: { intervalMs: c.GATEWAY_COMMIT_INTERVAL_MS, maxBatch: c.GATEWAY_COMMIT_MAX_BATCH },
    rawRetentionDays: c.GATEWAY_RAW_RETENTION_DAYS,
    evidenceFlushMs: c.GATEWAY_EVIDENCE_FLUSH_MS,
    lockstepWindowMs: c.GATEWAY_LOCKSTEP_WINDOW_MS,
    log: { level: c.GATEWAY_LOG_LEVEL },
    trustedProxies: c.GATEWAY_TRUSTED_PROXIES,
    floodControl: {
      deviceRatePerMin: c.GATEWAY_DEVICE_MAX_RATE_PER_MIN,
      deviceBurst: c.GATEWAY_DEVICE_BURST,
      connectsPerAddress: c.GATEWAY_CONN_RATE_PER_ADDR,
      connectWindowMs: c.GATEWAY_CONN_RATE_WINDOW_S * 1000,
      connectBurst: c.GATEWAY_CONN_BURST_PER_ADDR,
      authFailuresPerAddress: c.GATEWAY_AUTH_FAILURES_PER_ADDR,
      authFailureWindowMs: c.GATEWAY_AUTH_FAILURE_WINDOW_S * 1000,
      authFailedEvidencePerMin: c.GATEWAY_AUTH_FAILED_EVIDENCE_PER_MIN,
      flapConnects: c.GATEWAY_FLAP_CONNECTS,
      flapWindowMs: c.GATEWAY_FLAP_WINDOW_S * 1000,
      banMs: c.GATEWAY_BAN_SECONDS * 1000,
    },
    mqttLimits: {
      maxPacketBytes: c.GATEWAY_MQTT_MAX_PACKET_BYTES,
      connectTimeoutMs: c.GATEWAY_MQTT_CONNECT_TIMEOUT_MS,
      drainTimeoutMs: c.GATEWAY_MQTT_DRAIN_TIMEOUT_MS,
    },
    apiAuthThrottle: {
      maxFailures: c.GATEWAY_API_AUTH_FAILURES,
      windowMs: c.GATEWAY_API_AUTH_WINDOW_S * 1000,
      banMs: c.GATEWAY_API_AUTH_BAN_SECONDS * 1000,
    },
    ...(c.GATEWAY_METRICS_PORT === undefined ? {} : { metrics: { host: c.GATEWAY_METRICS_HOST, port: c.GATEWAY_METRICS_PORT } }),
    httpLimits: {
      maxConnectionsPerAddress: c.GATEWAY_HTTP_MAX_CONN_PER_ADDR,
      headersTimeoutMs: c.GATEWAY_HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: c.GATEWAY_HTTP_REQUEST_TIMEOUT_MS,
    },
  };
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Settings of the reviewer CLI (`npx gateway …`): where the gateway is and which key to use. */
export function loadCliEnv(env: Record<string, string | undefined> = process.env): { url: string; apiKey: string | undefined } {
  return {
    url: env.GATEWAY_URL && env.GATEWAY_URL !== '' ? env.GATEWAY_URL : 'http://127.0.0.1:8080',
    apiKey: env.GATEWAY_API_KEY && env.GATEWAY_API_KEY !== '' ? env.GATEWAY_API_KEY : undefined,
  };
}
