import type { Logger } from '../log.js';
import type { DeviceBans } from '../registry/index.js';

export interface DeviceBanSharer {
  /** Records a ban this node decided in the shared registry, in the background. */
  share(deviceId: string, until: number, reason: string): void;
  /** Waits for the writes under way (a test, or a stop, before the database closes). */
  settled(): Promise<void>;
}

/**
 * A flapping ban decided on this node is written to the registry (device_bans) so that every
 * other node refuses the device too (README "Limits across nodes"). The write happens beside the
 * CONNECT, never in its path: if the registry is unreachable the ban still holds on this node,
 * and is logged as not shared.
 */
export function createDeviceBanSharer(deps: { bans: Pick<DeviceBans, 'ban'>; nodeId: string; log: Logger }): DeviceBanSharer {
  const pending = new Set<Promise<void>>();
  return {
    share(deviceId, untilMs, reason) {
      const write = deps.bans
        .ban({ deviceId, untilMs, reason, nodeId: deps.nodeId })
        .catch((err: unknown) => deps.log.error({ err, reason }, 'ban not shared with the other nodes'))
        .finally(() => pending.delete(write));
      pending.add(write);
    },
    async settled() {
      await Promise.all([...pending]);
    },
  };
}
