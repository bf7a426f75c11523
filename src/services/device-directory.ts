import DataLoader from 'dataloader';
import type { DeviceDirectory } from '../../broker/device-directory.js';
import type { Clock } from '../clock.js';
import { EDGE_NODE_ID_RE, judgeDeviceToken, type DeviceAuthInfo, type Registry } from '../registry/index.js';

/** Look-ups per registry query in a connect storm (a chunk of `IN (…)` parameters). */
const MAX_BATCH = 500;

/**
 * How long the first CONNECT of a batch waits for others. aedes checks each connection's CONNECT
 * in its own turn of the event loop, so batching per turn gathered 1.2 look-ups a query in a
 * storm (measured); a few milliseconds gather tens, for a wait no device notices.
 */
const BATCH_WINDOW_MS = 5;

/**
 * The broker's device directory over the registry. Every CONNECT reads the registry afresh — so a
 * rotated or disabled token is refused at once, on every node — but the look-ups that arrive
 * within BATCH_WINDOW_MS go out as one query (DataLoader, without a cache): a storm of 10,000
 * reconnecting devices is hundreds of `WHERE id IN (…)` round trips to PostgreSQL, not 10,000.
 */
export function createDeviceDirectory(
  registry: Pick<Registry, 'devices' | 'edgeNodes' | 'deviceBans'>,
  /**
   * Flapping bans shared by the nodes (registry device_bans, README "Limits across nodes"): a ban
   * another node recorded is read with the token (no query of its own for a device; one for an
   * edge node, whose CONNECTs are few), refused as `banned`, and handed to `adopt` so this node's
   * flood control refuses the next CONNECTs without asking.
   */
  sharedBans?: { clock: Clock; adopt(deviceId: string, until: number): void },
): DeviceDirectory {
  const bannedBy = (id: string, until: number | undefined): boolean => {
    if (!sharedBans || until === undefined || until <= sharedBans.clock.now()) return false;
    sharedBans.adopt(id, until);
    return true;
  };
  const auth = new DataLoader(
    async (ids: readonly string[]) => {
      const found = await registry.devices.authInfoMany(ids);
      return ids.map((id) => found.get(id));
    },
    { cache: false, maxBatchSize: MAX_BATCH, batchScheduleFn: (dispatch) => setTimeout(dispatch, BATCH_WINDOW_MS) },
  );
  /** What the CONNECT's token check read, handed to the `facts` call that follows it (same connection). */
  const checked = new Map<string, DeviceAuthInfo>();
  return {
    async verifyToken(id, token) {
      if (EDGE_NODE_ID_RE.test(id)) {
        if (sharedBans && bannedBy(id, await registry.deviceBans.activeUntil(id))) return 'banned';
        return registry.edgeNodes.verifyToken(id, token);
      }
      const info = await auth.load(id);
      if (bannedBy(id, info?.bannedUntil)) return 'banned';
      const verdict = judgeDeviceToken(info, token);
      if (verdict === 'ok') checked.set(id, info!);
      return verdict;
    },
    async facts(id) {
      const info = checked.get(id) ?? (await auth.load(id));
      checked.delete(id);
      return info && { deviceId: info.deviceId, contractId: info.contractId, supplierId: info.supplierId };
    },
  };
}
