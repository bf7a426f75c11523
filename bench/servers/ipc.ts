/**
 * The control channel between bench/run.ts and a server under test (a child process with an
 * IPC channel): the server says `ready`, then answers `stats` / `gc` requests until `stop`.
 * CPU time and RSS are read inside the server, so they are the server's own, never the load's.
 */
export interface ServerStats {
  /** Process CPU time (user + system) since start, ms. */
  cpuMs: number;
  rssBytes: number;
  heapUsedBytes: number;
  /** Messages the server counted: bare aedes = publishes authorised, gateway = heartbeats durably committed. */
  messages: number;
  connections: number;
  /** Epoch ms with sub-ms precision (performance.timeOrigin + now), comparable across processes. */
  at: number;
}

export type ServerRequest = { type: 'stats'; id: number; gc?: boolean } | { type: 'stop'; id: number };
export type ServerMessage =
  | { type: 'ready'; port: number; credentialsFile?: string; devices?: number; seedMs?: number }
  | { type: 'stats'; id: number; stats: ServerStats }
  | { type: 'stopped'; id: number; final: ServerStats };

export function nowEpochMs(): number {
  return performance.timeOrigin + performance.now();
}

export function readStats(messages: number, connections: number): ServerStats {
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  return {
    cpuMs: (cpu.user + cpu.system) / 1000,
    rssBytes: mem.rss,
    heapUsedBytes: mem.heapUsed,
    messages,
    connections,
    at: nowEpochMs(),
  };
}

/** Collects garbage a few times so RSS reflects live memory (needs --expose-gc). */
export async function settleMemory(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function serve(handlers: {
  stats(): { messages: number; connections: number } | Promise<{ messages: number; connections: number }>;
  stop(): Promise<void>;
}): void {
  const send = (m: ServerMessage) => process.send?.(m);
  process.on('message', (raw: ServerRequest) => {
    void (async () => {
      if (raw.type === 'stats') {
        if (raw.gc) await settleMemory();
        const s = await handlers.stats();
        send({ type: 'stats', id: raw.id, stats: readStats(s.messages, s.connections) });
      } else if (raw.type === 'stop') {
        const s = await handlers.stats();
        const final = readStats(s.messages, s.connections);
        await handlers.stop();
        send({ type: 'stopped', id: raw.id, final });
        process.disconnect?.();
        setTimeout(() => process.exit(0), 50).unref();
      }
    })();
  });
  // The orchestrator died: do not linger.
  process.on('disconnect', () => setTimeout(() => process.exit(0), 200).unref());
}
