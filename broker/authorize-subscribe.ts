import type { Client, Subscription } from 'aedes';
import type { Metrics } from '../src/metrics.js';
import { ownCommandTopicPrefix } from './topics.js';

/**
 * aedes `authorizeSubscribe` hook: devices may subscribe only below their own command prefix,
 * never to heartbeat topics or wildcards. Nothing in the gateway fans heartbeats out over MQTT:
 * many publishers feeding one slow subscriber make aedes 1.2's mqemitter overflow its stack.
 */
export function createAuthorizeSubscribe(deps: { metrics: Metrics }) {
  return function authorizeSubscribe(
    client: Client,
    sub: Subscription,
    done: (err: Error | null, sub?: Subscription | null) => void,
  ): void {
    const prefix = ownCommandTopicPrefix(client.id);
    const topic = sub.topic;
    if (topic.startsWith(prefix) && !topic.includes('#') && !topic.includes('+')) return done(null, sub);
    deps.metrics.publishDenied.inc({ reason: 'subscribe-denied' });
    done(new Error(`device ${client.id} may not subscribe to ${topic.slice(0, 200)}`));
  };
}
