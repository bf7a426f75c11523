import type { Client, Subscription } from 'aedes';
import type { Metrics } from '../src/metrics.js';
import { ownCommandTopicPrefix } from './topics.js';

/**
 * aedes `authorizeSubscribe` hook: devices may subscribe only below their own command prefix,
 * never to heartbeat topics or wildcards. Nothing in the gateway fans heartbeats out over MQTT:
 * many publishers feeding one slow subscriber make aedes 1.2's mqemitter overflow its stack.
 */
export function createAuthorizeSubscribe(deps: { metrics: Metrics; isEdgeNode?: (clientId: string) => boolean }) {
  return function authorizeSubscribe(
    client: Client,
    sub: Subscription,
    done: (err: Error | null, sub?: Subscription | null) => void,
  ): void {
    const prefix = ownCommandTopicPrefix(client.id);
    const topic = sub.topic;
    if (topic.startsWith(prefix) && !topic.includes('#') && !topic.includes('+')) return done(null, sub);
    if (deps.isEdgeNode?.(client.id) && isSparkplugCommandTopic(topic, client.id)) return done(null, sub);
    deps.metrics.publishDenied.inc({ reason: 'subscribe-denied' });
    done(new Error(`device ${client.id} may not subscribe to ${topic.slice(0, 200)}`));
  };
}

/**
 * A Sparkplug B edge node subscribes to its own commands (NCMD, DCMD) and to host STATE
 * (Sparkplug 3.0 §6.4.1: `spBv1.0/{group}/NCMD/{edge_node_id}`, `…/DCMD/{edge_node_id}/{device}`,
 * `spBv1.0/STATE/{host}`). Refusing would close a standard client's connection; allowing it
 * fans nothing out, because nobody may publish to those topics (authorize-publish.ts).
 */
function isSparkplugCommandTopic(topic: string, edgeNodeId: string): boolean {
  const levels = topic.split('/');
  if (levels[0] !== 'spBv1.0') return false;
  if (levels[1] === 'STATE') return levels.length === 3;
  const [, group, type, node, device, ...rest] = levels;
  if (!group || group === '#' || node !== edgeNodeId || rest.length > 0) return false;
  if (type === 'NCMD') return device === undefined;
  return type === 'DCMD' && device !== undefined && device.length > 0;
}
