/**
 * The gateway nodes sharing this registry (issue 17): each refreshes its row in the registry's
 * database (src/services/announce-node.ts); a node not seen for LIVE_WITHIN_MS is not listed.
 */
import { z } from 'zod';
import type { ClusterNodes } from '../../registry/index.js';
import { routesWith } from '../route.js';

export interface ClusterRouteDeps {
  registry: { clusterNodes: Pick<ClusterNodes, 'live'> };
  /** This node's id (GATEWAY_NODE_ID). */
  nodeId: string;
  /** A node is live while its last refresh is this recent (three refresh periods). */
  nodeLiveWithinMs: number;
}

const nodeSchema = z
  .object({
    id: z.string(),
    pid: z.number().int(),
    host: z.string().describe('the address the node listens on (GATEWAY_MQTT_HOST)'),
    mqttPort: z.number().int(),
    httpPort: z.number().int(),
    startedAt: z.string(),
    lastSeen: z.string(),
    connectedDevices: z.number().int(),
    heartbeatsPerSecond: z.number(),
  })
  .meta({ id: 'ClusterNode' });

const route = routesWith<ClusterRouteDeps>();

export const clusterRoutes = [
  route({
    method: 'get',
    path: '/v1/cluster/nodes',
    summary: 'The live gateway nodes sharing this registry: id, pid, address, connected devices, heartbeats per second, last seen',
    tags: ['meta'],
    auth: ['admin'],
    responses: {
      200: {
        description: 'the live nodes, by id, and which of them answered',
        schema: z.object({ node: z.string(), nodes: z.array(nodeSchema) }).meta({ id: 'ClusterNodes' }),
      },
    },
    handler: async ({ deps }) => ({ status: 200, body: { node: deps.nodeId, nodes: await deps.registry.clusterNodes.live(deps.nodeLiveWithinMs) } }),
  }),
];
