import { setImmediate as nextTurn } from 'node:timers/promises';
import { monotonicMs, type Clock } from '../src/clock.js';
import { startLocalGateway } from '../src/provisioning/index.js';
import type { DeviceDayActivity } from '../src/telemetry/types.js';

/**
 * What a virtual-time run needs of its gateway, as an asynchronous interface so that the same
 * code serves a gateway in this thread and one in a worker thread (gateway-worker.ts answers
 * these calls by message; in-process.ts picks the mode).
 */
export interface GatewayHost {
  mqttPort: number;
  httpPort: number;
  /** HTTP address clients use (127.0.0.1 when the gateway listens on every interface). */
  httpHost: string;
  /** Waits until every heartbeat handed to the committer is durable. */
  flush(): Promise<void>;
  /** Heartbeats the gateway has processed so far: accepted (committed) plus rejected. */
  processed(): Promise<number>;
  /**
   * Waits until the gateway has processed `published` heartbeats in total (the QoS 0 barrier;
   * gives up after `timeoutMs` — a publish that never arrived must not hang the run).
   * Resolves to the processed count.
   */
  settle(published: number, timeoutMs?: number): Promise<number>;
  /**
   * Waits until the broker holds at most `connected` connections, so disconnects the fleet made
   * are recorded (with their time) before the driver moves the clock on; gives up after
   * `timeoutMs`. Resolves to the count it saw.
   */
  settleConnections(connected: number, timeoutMs?: number): Promise<number>;
  /** The telemetry store's activity rows (TelemetryStore.dailyActivity), for tests and reports. */
  dailyActivity(deviceIds: readonly string[], fromDay: string, toDay: string): Promise<DeviceDayActivity[]>;
  close(): Promise<void>;
}

export const SETTLE_TIMEOUT_MS = 5000;

/**
 * Starts the gateway from GATEWAY_* settings (the caller fills in data dir, admin key and
 * ports) on the given clock, in the calling thread.
 */
export async function hostGateway(env: Record<string, string | undefined>, clock: Clock): Promise<GatewayHost> {
  const { gateway, httpUrl } = await startLocalGateway({ env, clock });

  async function processed(): Promise<number> {
    const [accepted, rejected] = await Promise.all([gateway.metrics.heartbeatsAccepted.get(), gateway.metrics.heartbeatsRejected.get()]);
    let n = 0;
    for (const v of accepted.values) n += v.value;
    for (const v of rejected.values) n += v.value;
    return n;
  }

  return {
    mqttPort: gateway.mqttPort,
    httpPort: gateway.httpPort,
    httpHost: new URL(httpUrl).hostname,
    flush: () => gateway.flush(),
    processed,
    async settle(published, timeoutMs = SETTLE_TIMEOUT_MS) {
      const deadline = monotonicMs() + timeoutMs;
      for (;;) {
        // A turn of the event loop before each flush: the driver settles once its writes have
        // completed, so the tick's packets are in the socket buffers and one poll phase reads
        // them; flushing first would commit (and fsync) a part of the tick on its own.
        await nextTurn();
        await gateway.flush();
        const n = await processed();
        if (n >= published || monotonicMs() > deadline) return n;
      }
    },
    async settleConnections(connected, timeoutMs = SETTLE_TIMEOUT_MS) {
      const deadline = monotonicMs() + timeoutMs;
      for (;;) {
        const n = gateway.broker.aedes.connectedClients;
        if (n <= connected || monotonicMs() > deadline) return n;
        await nextTurn();
      }
    },
    dailyActivity: (deviceIds, fromDay, toDay) => gateway.store.dailyActivity(deviceIds, fromDay, toDay),
    close: () => gateway.close(),
  };
}

// ── the worker protocol (gateway-worker.ts ⇄ in-process.ts) ─────────────────────────────────

export interface GatewayWorkerData {
  /** GATEWAY_* settings, complete (data dir, admin key, ports). */
  env: Record<string, string | undefined>;
  /** The main thread's VirtualClock buffer. */
  clock: SharedArrayBuffer;
}

export type WorkerMethod = 'flush' | 'processed' | 'settle' | 'settleConnections' | 'dailyActivity' | 'close';

export interface WorkerRequest {
  id: number;
  method: WorkerMethod;
  args: unknown[];
}

export interface WorkerError {
  name: string;
  message: string;
  stack?: string;
  code?: unknown;
}

export type WorkerMessage =
  | { type: 'ready'; mqttPort: number; httpPort: number; httpHost: string }
  | { type: 'failed'; error: WorkerError }
  | { type: 'reply'; id: number; result: unknown }
  | { type: 'error'; id: number; error: WorkerError };

export function toWorkerError(err: unknown): WorkerError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { name: err.name, message: err.message, ...(err.stack ? { stack: err.stack } : {}), ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}) };
  }
  return { name: 'Error', message: String(err) };
}

/** An Error again, carrying the worker's stack frames and code. */
export function fromWorkerError(e: WorkerError, context: string): Error {
  const err = new Error(`${context}: ${e.message}`);
  err.name = e.name;
  const frames = (e.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
  if (frames.length) err.stack = `${err.name}: ${err.message}\n${frames.join('\n')}`;
  if (e.code !== undefined) (err as Error & { code?: unknown }).code = e.code;
  return err;
}
