import type { Client, PublishPacket } from 'aedes';
import type { AdmitHeartbeat, IngestContext } from '../src/services/admit-heartbeat.js';
import type { EdgeSession } from '../src/edge/index.js';
import type { Logger } from '../src/log.js';
import type { Metrics } from '../src/metrics.js';
import { heartbeatTopic, loggedId } from './topics.js';

/**
 * aedes `authorizePublish` hook: a device may publish only `v1/devices/{ownId}/heartbeat`.
 * Anything else is refused, which closes the connection [MQTT-3.3.5-2]. An authorised
 * heartbeat goes to the admission use-case (src/services/admit-heartbeat.ts), and the callback — which releases the QoS 1 PUBACK —
 * runs only after the heartbeat's batch is durably committed.
 */
export function createAuthorizePublish(deps: {
  admitHeartbeat: AdmitHeartbeat;
  contextOf: (client: Client) => IngestContext | undefined;
  /** An edge node's connection publishes for its bound devices instead (src/edge). */
  edgeOf?: (client: Client) => EdgeSession | undefined;
  metrics: Metrics;
  log: Logger;
}) {
  const { admitHeartbeat, contextOf, metrics, log } = deps;
  return function authorizePublish(client: Client | null, packet: PublishPacket, done: (err?: Error | null) => void): void {
    if (!client) return done(new Error('server-side publishes are not accepted'));
    const edge = deps.edgeOf?.(client);
    if (edge) {
      if (packet.retain) {
        metrics.publishDenied.inc({ reason: 'retain' });
        return done(new Error('retained messages are not accepted'));
      }
      return edge.publish(packet.topic, packet.payload as Buffer, done);
    }
    const ctx = contextOf(client);
    if (!ctx) return done(new Error('publish before the session was established'));
    // aedes publishes a dead client's will through this hook with the CONNECT's will packet
    // (client.will). A will is the broker speaking for a device that is gone, never a sign of
    // life: on the heartbeat topic it would add an online minute after the device died.
    if (packet === (client as unknown as { will?: unknown }).will) {
      metrics.publishDenied.inc({ reason: 'will' });
      return done(new Error('a will message is not a heartbeat'));
    }
    if (packet.topic !== heartbeatTopic(ctx.deviceId)) {
      metrics.publishDenied.inc({ reason: 'wrong-topic' });
      log.warn({ clientId: loggedId(ctx.deviceId), topic: packet.topic.slice(0, 200) }, 'publish to a foreign topic refused');
      return done(new Error(`device ${ctx.deviceId} may not publish to ${packet.topic.slice(0, 200)}`));
    }
    if (packet.retain) {
      metrics.publishDenied.inc({ reason: 'retain' });
      return done(new Error('retained heartbeats are not accepted'));
    }
    admitHeartbeat(ctx, packet.payload as Buffer, done);
  };
}
