import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { VirtualClock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import {
  fromWorkerError,
  hostGateway,
  type GatewayHost,
  type GatewayWorkerData,
  type WorkerMessage,
  type WorkerMethod,
  type WorkerRequest,
} from './gateway-host.js';
import { createApiClient, type ApiClient } from '../src/provisioning/index.js';

export type { GatewayHost };

/**
 * A gateway started by this process on a virtual clock, with a temporary data dir. By default
 * it runs in a worker thread (simulators/gateway-worker.ts): the device fleet's mqtt.js clients
 * and the gateway are both CPU-bound, and a thread each lets them use two cores. The
 * VirtualClock's time is in shared memory: the driver sets it here, the gateway reads it there.
 * `thread: 'main'` starts the same gateway in this thread instead (same interface).
 */
export interface InProcessGateway {
  gateway: GatewayHost;
  clock: VirtualClock;
  api: ApiClient;
  adminKey: string;
  dataDir: string;
  httpUrl: string;
  /** Waits until the gateway has processed `published` heartbeats in total (QoS 0 barrier). */
  settle(published: number): Promise<void>;
  /** Waits until the gateway holds at most `connected` connections (the disconnect barrier). */
  settleConnections(connected: number): Promise<void>;
  /** Why the gateway's thread died, if it did (never set by close()). */
  readonly failure: Error | undefined;
  /** Called once if the gateway's thread dies unexpectedly, e.g. to end connections waiting for a PUBACK. */
  onFailure(listener: (err: Error) => void): void;
  /** Stops the gateway (and its thread) and removes the temporary data dir. */
  close(): Promise<void>;
}

export type GatewayThread = 'worker' | 'main';

export async function startInProcessGateway(options: {
  start: number;
  /** Extra GATEWAY_* settings; ports default to 0 (free ports). */
  env?: Record<string, string | undefined>;
  /** Keep the data dir after close. */
  keepDataDir?: boolean;
  /** Where the gateway runs (default: a worker thread). */
  thread?: GatewayThread;
  /** Directory the temporary data dir is made in (default: the OS's); a RAM disk makes each fsync free. */
  tmpRoot?: string;
}): Promise<InProcessGateway> {
  const env = options.env ?? {};
  const ownDataDir = !env.GATEWAY_DATA_DIR;
  const dataDir = env.GATEWAY_DATA_DIR ?? mkdtempSync(join(options.tmpRoot ?? tmpdir(), 'gateway-sim-'));
  const removeDataDir = () => {
    if (ownDataDir && !options.keepDataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  const adminKey = env.GATEWAY_ADMIN_KEY ?? `sim-${randomBytes(16).toString('hex')}`;
  const gatewayEnv: Record<string, string | undefined> = {
    GATEWAY_HTTP_PORT: '0',
    GATEWAY_MQTT_PORT: '0',
    // The next turn of the event loop: each virtual tick waits for its PUBACKs, so the commit delay is pure overhead.
    GATEWAY_COMMIT_INTERVAL_MS: '0',
    GATEWAY_LOG_LEVEL: 'warn',
    ...env,
    GATEWAY_DATA_DIR: dataDir,
    GATEWAY_ADMIN_KEY: adminKey,
  };
  const clock = new VirtualClock(options.start);
  let worker: WorkerGateway | undefined;
  let gateway: GatewayHost;
  try {
    loadConfig(gatewayEnv); // a bad setting fails here, as a ConfigError, before any thread starts
    if (options.thread === 'main') gateway = await hostGateway(gatewayEnv, clock);
    else gateway = worker = await startGatewayWorker(gatewayEnv, clock);
  } catch (err) {
    removeDataDir();
    throw err;
  }
  const httpUrl = `http://${gateway.httpHost}:${gateway.httpPort}`;

  let closing: Promise<void> | undefined;
  return {
    gateway,
    clock,
    api: createApiClient(httpUrl, adminKey),
    adminKey,
    dataDir,
    httpUrl,
    async settle(published) {
      await gateway.settle(published);
    },
    async settleConnections(connected) {
      await gateway.settleConnections(connected);
    },
    get failure() {
      return worker?.failure;
    },
    onFailure(listener) {
      worker?.onFailure(listener);
    },
    close() {
      closing ??= (async () => {
        try {
          await gateway.close();
        } finally {
          await worker?.terminate();
          removeDataDir();
        }
      })();
      return closing;
    },
  };
}

// ── the worker thread ────────────────────────────────────────────────────────────────────

const WORKER_FILE = fileURLToPath(new URL('./gateway-worker.ts', import.meta.url));
/**
 * tsx's require hook, registered in the worker explicitly: a worker inherits no loader from a
 * vitest test, and on Node 20 the ESM loader hooks (`--import tsx` in the worker's execArgv, or
 * tsx's `register()` in the worker) do not reach a worker's imports at all; the CommonJS hook
 * does (tsx compiles the TypeScript sources to CommonJS on `require`). Resolved here, so that it
 * does not depend on the working directory.
 */
const TSX_CJS_API = createRequire(import.meta.url).resolve('tsx/cjs/api');
const WORKER_BOOTSTRAP = `require(${JSON.stringify(TSX_CJS_API)}).register();\nrequire(${JSON.stringify(WORKER_FILE)});\n`;
/** How long close() waits for the gateway to close in its thread before terminating it. */
const CLOSE_TIMEOUT_MS = 30_000;

interface WorkerGateway extends GatewayHost {
  readonly failure: Error | undefined;
  onFailure(listener: (err: Error) => void): void;
  terminate(): Promise<void>;
}

/**
 * Starts gateway-worker.ts and resolves once its gateway listens; rejects with the worker's
 * error if it fails to start. Every call rejects (never hangs) once the thread is gone.
 */
async function startGatewayWorker(env: Record<string, string | undefined>, clock: VirtualClock): Promise<WorkerGateway> {
  const workerData: GatewayWorkerData = { env, clock: clock.buffer };
  // execArgv: [] — nothing of the parent's loaders (tsx CLI, vitest) is of use there.
  const worker = new Worker(WORKER_BOOTSTRAP, { eval: true, workerData, execArgv: [] });
  const pending = new Map<number, { method: WorkerMethod; resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const failureListeners: Array<(err: Error) => void> = [];
  let nextId = 0;
  /** Set once the thread is gone (or going): every later call rejects with it. */
  let gone: Error | undefined;
  let failure: Error | undefined;
  let terminating = false;

  let started: (m: Extract<WorkerMessage, { type: 'ready' }>) => void = () => undefined;
  let startFailed: (err: Error) => void = () => undefined;
  const ready = new Promise<Extract<WorkerMessage, { type: 'ready' }>>((resolve, reject) => {
    started = resolve;
    startFailed = reject;
  });

  function die(err: Error): void {
    if (gone) return;
    gone = err;
    startFailed(err);
    for (const p of pending.values()) p.reject(err);
    pending.clear();
    if (!terminating) {
      failure = err;
      for (const listener of failureListeners.splice(0)) listener(err);
    }
  }

  worker.on('message', (m: WorkerMessage) => {
    switch (m.type) {
      case 'ready':
        started(m);
        break;
      case 'failed':
        startFailed(fromWorkerError(m.error, 'the gateway did not start'));
        break;
      case 'reply':
      case 'error': {
        const p = pending.get(m.id);
        if (!p) break;
        pending.delete(m.id);
        if (m.type === 'reply') p.resolve(m.result);
        else p.reject(fromWorkerError(m.error, `gateway ${p.method}`));
        break;
      }
    }
  });
  worker.on('error', (err) => die(new Error(`gateway worker thread failed: ${err.message}`, { cause: err })));
  worker.on('messageerror', (err) => die(new Error(`gateway worker thread: unreadable message: ${err.message}`, { cause: err })));
  worker.on('exit', (code) => die(new Error(`gateway worker thread exited (code ${code})`)));

  function call<T>(method: WorkerMethod, ...args: unknown[]): Promise<T> {
    if (gone) return Promise.reject(gone);
    return new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { method, resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ id, method, args } satisfies WorkerRequest);
    });
  }

  async function terminate(): Promise<void> {
    terminating = true;
    await worker.terminate();
  }

  let info: Extract<WorkerMessage, { type: 'ready' }>;
  try {
    info = await ready;
  } catch (err) {
    await terminate();
    throw err;
  }

  return {
    mqttPort: info.mqttPort,
    httpPort: info.httpPort,
    httpHost: info.httpHost,
    flush: () => call('flush'),
    processed: () => call('processed'),
    settle: (published, timeoutMs) => call('settle', published, timeoutMs),
    settleConnections: (connected, timeoutMs) => call('settleConnections', connected, timeoutMs),
    dailyActivity: (deviceIds, fromDay, toDay) => call('dailyActivity', [...deviceIds], fromDay, toDay),
    async close() {
      if (gone) return;
      const stop = new AbortController();
      const timeout = delay(CLOSE_TIMEOUT_MS, undefined, { ref: false, signal: stop.signal }).then(() => {
        throw new Error(`the gateway did not close within ${CLOSE_TIMEOUT_MS / 1000} s`);
      });
      timeout.catch(() => undefined); // aborted once the gateway has closed
      try {
        await Promise.race([call<void>('close'), timeout]);
      } finally {
        stop.abort();
      }
    },
    get failure() {
      return failure;
    },
    onFailure(listener) {
      if (failure) listener(failure);
      else failureListeners.push(listener);
    },
    terminate,
  };
}
