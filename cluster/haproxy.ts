/**
 * HAProxy in front of several gateway nodes (issue 17): its configuration, rendered from the
 * node list, and Debian's `haproxy` (2.6) run in the foreground as a child process.
 *
 * - MQTT: `mode tcp`, `balance source` with consistent hashing, so every connection of one
 *   address (a NAT'd factory) lands on one node while that node is up — the lock-step and NAT
 *   signals see the fleet whole, and per-address limits are whole per node — and only the
 *   killed node's addresses move when a node goes down. PROXY protocol v2 (`send-proxy-v2`)
 *   tells the node each device's real address; the nodes accept it only from
 *   GATEWAY_TRUSTED_PROXIES.
 * - HTTP API: `mode http`, round robin (it is stateless), `X-Forwarded-For` added.
 * - Health: each node's public `GET /healthz` on its HTTP port, for both backends. It answers
 *   200 while the process lives (also while PostgreSQL is away: the node keeps its devices), so
 *   a node is taken out when it dies or stops listening, not when the shared database blinks.
 *   Checks every second, down after two failures: a killed node's devices are sent elsewhere
 *   within ~2 s; until then `option redispatch` retries a refused connection on another node.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { exitedOrKilled, sleep } from './processes.js';

export interface HaproxyBackendNode {
  id: string;
  host: string;
  mqttPort: number;
  httpPort: number;
}

export interface HaproxyOptions {
  /** Where HAProxy listens for devices and for API clients. */
  mqttHost: string;
  mqttPort: number;
  httpHost: string;
  httpPort: number;
  /** HAProxy's statistics page (`/;csv` for machines); omitted = none. */
  statsPort?: number;
  nodes: readonly HaproxyBackendNode[];
  /** Send PROXY protocol v2 to the nodes' MQTT listeners (they must trust HAProxy's address). */
  proxyProtocol: boolean;
  /** Connections HAProxy holds at once (each device costs two file descriptors). */
  maxConnections: number;
  /** Health check period in ms. */
  checkIntervalMs: number;
}

/** Debian's package installs it in /usr/sbin, which a non-root PATH may lack. */
export const HAPROXY_BINARY = existsSync('/usr/sbin/haproxy') ? '/usr/sbin/haproxy' : 'haproxy';

export const HAPROXY_DEFAULTS = { proxyProtocol: true, checkIntervalMs: 1000 } as const;

/**
 * Connections HAProxy can hold here: each costs two descriptors (device side, node side), and
 * HAProxy refuses to start when `maxconn` needs more than the hard limit it may raise to.
 */
export function defaultMaxConnections(): number {
  const hard = Number(spawnSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).stdout.trim());
  const limit = Number.isFinite(hard) && hard > 0 ? hard : 1024;
  return Math.min(100_000, Math.floor((limit - 200) / 2));
}

export function renderHaproxyConfig(o: Readonly<HaproxyOptions>): string {
  // Checked on the node's HTTP port even for MQTT: no half-open MQTT connections in the evidence.
  const server = (n: HaproxyBackendNode, port: number, extra: string) =>
    `    server ${n.id} ${n.host}:${port} check port ${n.httpPort} inter ${o.checkIntervalMs} fall 2 rise 1${extra}`;
  const lines = [
    '# Rendered by cluster/haproxy.ts (npm run cluster). One address for every gateway node.',
    'global',
    `    maxconn ${o.maxConnections}`,
    '    log stderr format short local0 warning',
    '',
    'defaults',
    '    log global',
    '    option dontlognull',
    '    timeout connect 2s',
    // A device may ask for a keep-alive of up to an hour (the broker's keepaliveLimit); aedes
    // drops it after 1.5 × its keep-alive, so HAProxy must not cut the idle TCP stream first.
    '    timeout client 100m',
    '    timeout server 100m',
    // A connection refused by a node that just died is tried again, on another node.
    '    retries 2',
    '    option redispatch 1',
    `    maxconn ${o.maxConnections}`,
    '',
    'frontend mqtt',
    '    mode tcp',
    `    bind ${o.mqttHost}:${o.mqttPort} backlog 8192`,
    '    default_backend gateway_mqtt',
    '',
    'backend gateway_mqtt',
    '    mode tcp',
    '    balance source',
    '    hash-type consistent',
    '    option httpchk GET /healthz',
    ...o.nodes.map((n) => server(n, n.mqttPort, o.proxyProtocol ? ' send-proxy-v2' : '')),
    '',
    'frontend http',
    '    mode http',
    `    bind ${o.httpHost}:${o.httpPort}`,
    '    timeout client 60s',
    '    option forwardfor',
    '    default_backend gateway_http',
    '',
    'backend gateway_http',
    '    mode http',
    '    timeout server 60s',
    '    balance roundrobin',
    '    option httpchk GET /healthz',
    ...o.nodes.map((n) => server(n, n.httpPort, '')),
  ];
  if (o.statsPort !== undefined) {
    lines.push('', 'listen stats', '    mode http', `    bind 127.0.0.1:${o.statsPort}`, '    timeout client 10s', '    stats enable', '    stats uri /');
  }
  return `${lines.join('\n')}\n`;
}

export interface RunningHaproxy {
  process: ChildProcess;
  configFile: string;
  output(): string;
  /** SIGTERM (HAProxy's hard stop) and wait for the exit. */
  stop(): Promise<void>;
}

/** Renders the config into `dir/haproxy.cfg`, starts HAProxy and waits until both of its ports accept. */
export function startHaproxy(options: Readonly<HaproxyOptions>, dir: string, binary = HAPROXY_BINARY): Promise<RunningHaproxy> {
  return runHaproxy(
    renderHaproxyConfig(options),
    [
      [options.mqttHost, options.mqttPort],
      [options.httpHost, options.httpPort],
    ],
    dir,
    binary,
  );
}

/** Runs HAProxy on a given configuration (tests of one particular shape write their own) until `listens` all accept. */
export async function runHaproxy(config: string, listens: Array<[string, number]>, dir: string, binary = HAPROXY_BINARY): Promise<RunningHaproxy> {
  const configFile = join(dir, 'haproxy.cfg');
  writeFileSync(configFile, config);
  // -db: stay in the foreground, logs to stderr; -W: master-worker (SIGTERM stops the workers too).
  const child = spawn(binary, ['-W', '-db', '-f', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const failed = new Promise<never>((_, reject) =>
    child.once('error', (err) => reject(new Error(`haproxy could not start (${err.message}); is Debian's haproxy installed?`))),
  );
  await Promise.race([failed, waitForPorts(listens, () => child.exitCode !== null, () => out)]);
  return {
    process: child,
    configFile,
    output: () => out,
    async stop() {
      child.kill('SIGTERM');
      await exitedOrKilled(child, 5000);
      await exited;
    },
  };
}

async function waitForPorts(addresses: Array<[string, number]>, dead: () => boolean, output: () => string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (dead()) throw new Error(`haproxy exited:\n${output()}`);
    const open = await Promise.all(addresses.map(([host, port]) => accepts(host, port)));
    if (open.every(Boolean)) return;
    await sleep(50);
  }
  throw new Error(`haproxy did not listen on ${addresses.map((a) => a.join(':')).join(', ')} within 10 s:\n${output()}`);
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** One row of HAProxy's statistics CSV (`/;csv`) per backend server: whether it is up and its current sessions. */
export async function haproxyServers(statsPort: number): Promise<Array<{ backend: string; server: string; status: string; sessions: number; total: number }>> {
  const csv = await (await fetch(`http://127.0.0.1:${statsPort}/;csv`)).text();
  const [header, ...rows] = csv.replace(/^# /, '').trim().split('\n');
  const cols = header!.split(',');
  const at = (name: string) => cols.indexOf(name);
  return rows
    .map((r) => r.split(','))
    .filter((r) => r[at('svname')] !== 'FRONTEND' && r[at('svname')] !== 'BACKEND')
    .map((r) => ({
      backend: r[at('pxname')]!,
      server: r[at('svname')]!,
      status: r[at('status')]!,
      sessions: Number(r[at('scur')]),
      total: Number(r[at('stot')]),
    }));
}
