import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { REJECTION_REASONS } from './telemetry/index.js';

/**
 * Every Prometheus metric of one gateway instance, on its own registry (several gateways
 * can run in one test process). Exposed at GET /metrics.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const opts = { registers: [registry] };
  const metrics = {
    registry,
    mqttConnections: new Gauge({ name: 'gateway_mqtt_connections', help: 'connected MQTT clients', ...opts }),
    authFailures: new Counter({
      name: 'gateway_mqtt_auth_failures_total',
      help: 'refused MQTT CONNECTs by reason',
      labelNames: ['reason'] as const,
      ...opts,
    }),
    heartbeatsAccepted: new Counter({
      name: 'gateway_heartbeats_accepted_total',
      help: 'heartbeats accepted and stored',
      ...opts,
    }),
    heartbeatsRejected: new Counter({
      name: 'gateway_heartbeats_rejected_total',
      help: 'heartbeats rejected, by reason',
      labelNames: ['reason'] as const,
      ...opts,
    }),
    publishDenied: new Counter({
      name: 'gateway_mqtt_publish_denied_total',
      help: 'PUBLISH/SUBSCRIBE refused by authorization, by reason',
      labelNames: ['reason'] as const,
      ...opts,
    }),
    commitBatchSize: new Histogram({
      name: 'gateway_commit_batch_size',
      help: 'heartbeats per group commit',
      buckets: [1, 10, 50, 100, 500, 1000, 2000, 5000],
      ...opts,
    }),
    commitSeconds: new Histogram({
      name: 'gateway_commit_seconds',
      help: 'group commit duration',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
      ...opts,
    }),
    verificationSeconds: new Histogram({
      name: 'gateway_verification_seconds',
      help: 'contract verification duration',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      ...opts,
    }),
    apiAuthFailures: new Counter({
      name: 'gateway_api_auth_failures_total',
      help: 'HTTP requests refused for a missing or invalid API key',
      ...opts,
    }),
    mqttConnectionsRefused: new Counter({
      name: 'gateway_mqtt_connections_refused_total',
      help: 'MQTT connections closed by flood control or the packet guard, by reason',
      labelNames: ['reason'] as const,
      ...opts,
    }),
    httpConnectionsRefused: new Counter({
      name: 'gateway_http_connections_refused_total',
      help: 'HTTP connections closed at accept, by reason (per-address-cap)',
      labelNames: ['reason'] as const,
      ...opts,
    }),
    sessionsTakenOver: new Counter({
      name: 'gateway_sessions_taken_over_total',
      help: 'connections this node closed because the device connected on another node, by how it learnt it (notice, reconcile)',
      labelNames: ['by'] as const,
      ...opts,
    }),
    bans: new Counter({
      name: 'gateway_bans_total',
      help: 'temporary bans of remote addresses or devices, by reason',
      labelNames: ['reason'] as const,
      ...opts,
    }),
  };
  // Every rejection reason is listed from the start (at 0), so a dashboard sees the full set.
  for (const reason of REJECTION_REASONS) metrics.heartbeatsRejected.inc({ reason }, 0);
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;
