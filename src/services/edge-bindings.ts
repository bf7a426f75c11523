import type { Actor, EdgeNode, EdgeNodes } from '../registry/index.js';
import type { SessionCloser } from './device-credentials.js';

/**
 * Re-binds an edge node's devices (audited by the registry). When devices are taken away, the
 * node's live session ends at once: it must not go on reporting for a device that is no longer
 * its own, and on reconnecting it births only the devices it still has (issue 20).
 */
export async function setEdgeNodeDevices(
  deps: { edgeNodes: Pick<EdgeNodes, 'setDevices'>; sessions: SessionCloser },
  edgeNodeId: string,
  devices: string[],
  actor: Actor,
): Promise<EdgeNode> {
  const { node, removed } = await deps.edgeNodes.setDevices(edgeNodeId, devices, actor);
  if (removed.length > 0) await deps.sessions.disconnect(edgeNodeId);
  return node;
}
