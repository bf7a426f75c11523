/**
 * zod schemas of the edge node routes (API.md "Edge gateways"), kept beside the registry's
 * other request/response schemas but in their own module.
 */
import { z } from 'zod';
import { MAX_DEVICES_PER_REQUEST } from './devices.js';

const deviceIds = z
  .array(z.string().min(1).max(64))
  .max(MAX_DEVICES_PER_REQUEST)
  .describe('registered device ids of the same contract; a device is bound to at most one edge node');

export const edgeNodeCreateSchema = z
  .object({ name: z.string().trim().min(1).max(200), devices: deviceIds })
  .meta({ id: 'EdgeNodeCreate' });

export const edgeNodeDevicesSchema = z.object({ devices: deviceIds }).meta({ id: 'EdgeNodeDevices' });

export const edgeNodeSchema = z
  .object({
    id: z.string().describe('MQTT client id and username, and the Sparkplug edge_node_id'),
    name: z.string(),
    contractId: z.string(),
    supplierId: z.string(),
    enabled: z.boolean(),
    createdAt: z.string().describe('ISO-8601, Asia/Shanghai offset (+08:00)'),
    devices: z.array(z.string()),
  })
  .meta({ id: 'EdgeNode' });

export const issuedEdgeNodeSchema = edgeNodeSchema
  .extend({ token: z.string().describe('MQTT password: 32 hex chars, shown only in this response') })
  .meta({ id: 'IssuedEdgeNode' });

export const edgeLiveStatusSchema = z
  .object({
    connected: z.boolean(),
    born: z.boolean().describe('between its NBIRTH and its NDEATH or the end of the connection'),
    group: z.string().nullable().describe('Sparkplug group_id of its NBIRTH'),
    bdSeq: z.number().int().nullable(),
    devicesAlive: z.number().int().describe('devices born (DBIRTH) and not dead in this life of the node'),
  })
  .meta({ id: 'EdgeLiveStatus' });

export const edgeNodeWithLiveSchema = edgeNodeSchema
  .extend({ live: edgeLiveStatusSchema.optional().describe("the gateway's view of the node's MQTT connection") })
  .meta({ id: 'EdgeNodeWithLive' });
