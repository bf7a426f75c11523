/**
 * Process plumbing for the benchmarks: servers under test and load generators each run in
 * their own Node process (own event loop), spawned through a shell that raises the open-files
 * limit to the hard limit first, and talk to bench/run.ts over an IPC channel.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadMessage, LoadRequest, LoadSpec } from './load/protocol.js';
import type { ServerMessage, ServerRequest, ServerStats } from './servers/ipc.js';
import { exitedOrKilled } from '../test/support/process.js';

export const ROOT = fileURLToPath(new URL('../', import.meta.url));

export type ServerKind = 'bare-aedes' | 'gateway';

function spawnNode(script: string, env: Record<string, string>, nodeArgs: string[] = []): ChildProcess {
  const args = ['--expose-gc', ...nodeArgs, '--import', 'tsx', script].map((a) => `'${a}'`).join(' ');
  // 10,000 connections need more than the usual 1,024 descriptors; the hard limit is the ceiling.
  const child = spawn('sh', ['-c', `ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "${process.execPath}" ${args}`], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return child;
}

/** Resolves with the next message from `child` that matches. */
function nextMessage<T>(child: ChildProcess, match: (m: T) => boolean, what: string, timeoutMs = 180_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: T) => {
      if (!match(m)) return;
      cleanup();
      resolve(m);
    };
    const onExit = (code: number | null, signal: string | null) => {
      cleanup();
      reject(new Error(`${what}: process exited (${code ?? signal}) before answering`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${what}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage as (m: unknown) => void);
      child.off('exit', onExit);
    };
    child.on('message', onMessage as (m: unknown) => void);
    child.once('exit', onExit);
  });
}

export interface ServerHandle {
  kind: ServerKind;
  port: number;
  url: string;
  credentialsFile: string | undefined;
  seedMs: number | undefined;
  pid: number;
  stats(gc?: boolean): Promise<ServerStats>;
  stop(): Promise<ServerStats | undefined>;
}

let requestId = 0;

export async function startServer(kind: ServerKind, env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<ServerHandle> {
  const script = kind === 'gateway' ? 'bench/servers/gateway-server.ts' : 'bench/servers/bare-aedes.ts';
  const child = spawnNode(script, env, nodeArgs);
  const ready = await nextMessage<ServerMessage>(child, (m) => m.type === 'ready', `${kind} start`);
  if (ready.type !== 'ready') throw new Error('unreachable');
  const request = <T extends ServerMessage>(req: ServerRequest, type: T['type']) => {
    const answer = nextMessage<ServerMessage>(child, (m) => m.type === type && 'id' in m && m.id === req.id, `${kind} ${req.type}`, 60_000);
    child.send(req);
    return answer as Promise<T>;
  };
  return {
    kind,
    port: ready.port,
    url: `mqtt://127.0.0.1:${ready.port}`,
    credentialsFile: ready.credentialsFile,
    seedMs: ready.seedMs,
    pid: child.pid!,
    async stats(gc = false) {
      const m = await request<Extract<ServerMessage, { type: 'stats' }>>({ type: 'stats', id: ++requestId, gc }, 'stats');
      return m.stats;
    },
    async stop() {
      try {
        const m = await request<Extract<ServerMessage, { type: 'stopped' }>>({ type: 'stop', id: ++requestId }, 'stopped');
        await exitedOrKilled(child, 10_000);
        return m.final;
      } catch {
        child.kill('SIGKILL');
        await exitedOrKilled(child, 5_000);
        return undefined;
      }
    },
  };
}

export interface LoadHandle {
  next<K extends LoadMessage['type']>(type: K, timeoutMs?: number): Promise<Extract<LoadMessage, { type: K }>>;
  send(m: LoadRequest): void;
  stop(): Promise<void>;
}

export function startLoad(kind: 'publisher' | 'connector', spec: LoadSpec): LoadHandle {
  const child = spawnNode(`bench/load/${kind}.ts`, { BENCH_LOAD: JSON.stringify(spec) });
  // Buffer messages so none is lost between two `next` calls.
  const inbox: LoadMessage[] = [];
  const waiting: Array<{ type: string; resolve: (m: LoadMessage) => void }> = [];
  child.on('message', (m: LoadMessage) => {
    const i = waiting.findIndex((w) => w.type === m.type);
    if (i >= 0) waiting.splice(i, 1)[0]!.resolve(m);
    else inbox.push(m);
  });
  return {
    next(type, timeoutMs = 180_000) {
      const i = inbox.findIndex((m) => m.type === type);
      if (i >= 0) return Promise.resolve(inbox.splice(i, 1)[0] as never);
      return new Promise((resolve, reject) => {
        const entry = { type, resolve: (m: LoadMessage) => (clearTimeout(timer), child.off('exit', onExit), resolve(m as never)) };
        const onExit = () => reject(new Error(`${kind} exited while waiting for ${type}`));
        const timer = setTimeout(() => reject(new Error(`${kind}: no ${type} within ${timeoutMs} ms`)), timeoutMs);
        child.once('exit', onExit);
        waiting.push(entry);
      });
    },
    send(m) {
      child.send(m);
    },
    async stop() {
      if (child.connected) child.send({ type: 'stop' } satisfies LoadRequest);
      await exitedOrKilled(child, 10_000);
    },
  };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Flood control and the per-address connection brake are off: the benchmarks measure capacity, not policy. */
export const BENCH_GATEWAY_ENV: Record<string, string> = {
  GATEWAY_DEVICE_MAX_RATE_PER_MIN: '0',
  GATEWAY_CONN_RATE_PER_ADDR: '0',
  GATEWAY_FLAP_CONNECTS: '0',
};

/** A credentials file for the reference broker (which checks none); `remove` deletes it. */
export function anonymousCredentials(devices: number): { file: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'bench-creds-'));
  const file = join(dir, 'credentials.json');
  // Same id and token shapes as the gateway issues, so every packet has the same size.
  writeFileSync(file, JSON.stringify(Array.from({ length: devices }, (_, i) => ({ id: `dv_bench${String(i).padStart(12, '0')}`, token: randomBytes(16).toString('base64url') }))));
  return { file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface FleetOptions {
  kind: ServerKind;
  devices: number;
  /** Load processes; each takes an equal slice of the devices. */
  loaders: number;
  load: 'publisher' | 'connector';
  /** Load settings beyond the server and the slice (window, sources, …). */
  spec: Omit<LoadSpec, 'url' | 'credentialsFile' | 'from' | 'to'>;
  /** GATEWAY_* settings on top of BENCH_GATEWAY_ENV (gateway only). */
  gatewayEnv?: Record<string, string>;
  serverNodeArgs?: string[];
}

/**
 * One round's set-up and tear-down: a fresh server process (the gateway seeded with `devices`
 * registered devices, or bare aedes with anonymous credentials of the same shape) and the load
 * processes, stopped whatever `run` does.
 */
export async function withFleet<T>(o: FleetOptions, run: (server: ServerHandle, loads: LoadHandle[]) => Promise<T>): Promise<T> {
  const env = o.kind === 'gateway' ? { ...BENCH_GATEWAY_ENV, ...o.gatewayEnv, BENCH_DEVICES: String(o.devices) } : {};
  const server = await startServer(o.kind, env, o.serverNodeArgs);
  try {
    const anonymous = server.credentialsFile === undefined ? anonymousCredentials(o.devices) : undefined;
    const credentialsFile = server.credentialsFile ?? anonymous!.file;
    const per = Math.ceil(o.devices / o.loaders);
    const loads = Array.from({ length: o.loaders }, (_, i) =>
      startLoad(o.load, { ...o.spec, url: server.url, credentialsFile, from: i * per, to: Math.min(o.devices, (i + 1) * per) }),
    );
    try {
      return await run(server, loads);
    } finally {
      await Promise.all(loads.map((l) => l.stop()));
      anonymous?.remove();
    }
  } finally {
    await server.stop();
  }
}

/** Every round runs `one` for both servers on fresh processes, the order swapped each round (bare aedes first on odd rounds). */
export async function alternatingRounds<R>(rounds: number, one: (kind: ServerKind, round: number) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const kind of (round % 2 ? ['bare-aedes', 'gateway'] : ['gateway', 'bare-aedes']) as ServerKind[]) results.push(await one(kind, round));
  }
  return results;
}
