import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { ClusterNodes } from '../registry/index.js';

export interface NodeAnnouncer {
  /** Refreshes the node's row now (the caller's first call; then every `everyMs`). */
  announceNow(): Promise<void>;
  /** Stops refreshing and removes the node's row (a clean stop; a killed node's row just ages out). */
  leave(): Promise<void>;
}

/**
 * Each gateway node keeps its own row in the shared registry (issue 17): who it is, where it
 * listens, how many devices it holds and how many heartbeats a second it takes — what an operator
 * of several nodes asks first (GET /v1/cluster/nodes). Heartbeats per second are measured
 * between refreshes, on the injected clock.
 */
export function startNodeAnnouncer(deps: {
  nodes: Pick<ClusterNodes, 'announce' | 'leave'>;
  clock: Clock;
  self: { id: string; pid: number; host: string; mqttPort: number; httpPort: number; startedAt: number };
  stats(): Promise<{ connectedDevices: number; heartbeatsAccepted: number }>;
  everyMs: number;
  log: Logger;
}): NodeAnnouncer {
  let last: { at: number; heartbeats: number } | undefined;
  let running: Promise<void> | undefined;
  const announceNow = (): Promise<void> =>
    (running ??= (async () => {
      try {
        const at = deps.clock.now();
        const { connectedDevices, heartbeatsAccepted } = await deps.stats();
        const heartbeatsPerSecond = last && at > last.at ? ((heartbeatsAccepted - last.heartbeats) * 1000) / (at - last.at) : 0;
        last = { at, heartbeats: heartbeatsAccepted };
        await deps.nodes.announce({ ...deps.self, connectedDevices, heartbeatsPerSecond: Math.max(0, heartbeatsPerSecond) });
      } catch (err) {
        // The registry's database is down: the node keeps serving; its row ages and it says so here.
        deps.log.warn({ err }, 'node not announced in the registry');
      } finally {
        running = undefined;
      }
    })());
  const timer = setInterval(() => void announceNow(), deps.everyMs);
  timer.unref();
  return {
    announceNow,
    async leave() {
      clearInterval(timer);
      await running;
      await deps.nodes.leave(deps.self.id).catch((err: unknown) => deps.log.warn({ err }, 'node row not removed'));
    },
  };
}
