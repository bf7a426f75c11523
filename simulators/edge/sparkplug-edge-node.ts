/**
 * A Sparkplug B edge node on a real mqtt.js connection, as an edge gateway in front of PLCs
 * speaks it (Eclipse Sparkplug 3.0): NDEATH registered as the MQTT will with the bdSeq of the
 * NBIRTH that follows, seq 0–255 across all its messages, DBIRTH/DDATA/DDEATH per device.
 * Payloads are encoded by Eclipse Tahu's `sparkplug-payload`, the same library the gateway
 * decodes with. Used by the simulators' edge fleets, the demo, bench/ and the tests.
 */
import net from 'node:net';
import mqtt from 'mqtt';
import type { UMetric } from 'sparkplug-payload/lib/sparkplugbpayload.js';
import { encodeSparkplug } from '../../src/edge/sparkplug.js';

export interface EdgeNodeCredentials {
  id: string;
  token: string;
}

export interface SparkplugEdgeNodeOptions {
  port: number;
  host?: string;
  group?: string;
  /** bdSeq of the first life (Sparkplug 3.0 §6.4.6: incremented on every new MQTT session). */
  bdSeq?: number;
  localAddress?: string;
  /** Edge node's own clock for payload timestamps (epoch ms). */
  now?: () => number;
}

export type Readings = Record<string, number | string>;

export class SparkplugEdgeNode {
  readonly group: string;
  client!: mqtt.MqttClient;
  bdSeq: number;
  #seq = 0;
  readonly #options: SparkplugEdgeNodeOptions;

  constructor(
    readonly credentials: EdgeNodeCredentials,
    options: SparkplugEdgeNodeOptions,
  ) {
    this.#options = options;
    this.group = options.group ?? 'factory';
    this.bdSeq = options.bdSeq ?? 0;
  }

  topic(type: string, deviceId?: string): string {
    return `spBv1.0/${this.group}/${type}/${this.credentials.id}${deviceId ? `/${deviceId}` : ''}`;
  }

  /** Connects with the NDEATH of the coming life as its will. */
  connect(): Promise<this> {
    const { id, token } = this.credentials;
    const { port, host = '127.0.0.1', localAddress } = this.#options;
    return new Promise((resolve, reject) => {
      this.client = new mqtt.MqttClient(() => net.createConnection({ port, host, ...(localAddress ? { localAddress } : {}) }), {
        clientId: id,
        username: id,
        password: token,
        protocolVersion: 4,
        reconnectPeriod: 0,
        connectTimeout: 5000,
        clean: true,
        will: { topic: this.topic('NDEATH'), payload: Buffer.from(this.#payload([bdSeqMetric(this.bdSeq)], false)), qos: 1, retain: false },
      });
      this.client.once('connect', () => resolve(this));
      this.client.once('error', (err) => {
        this.client.end(true);
        reject(err);
      });
    });
  }

  /** NBIRTH: seq starts again at 0 (Sparkplug 3.0 §6.4.7). */
  nbirth(metrics: Readings = {}): Promise<unknown> {
    this.#seq = 0;
    return this.#publish(this.topic('NBIRTH'), [bdSeqMetric(this.bdSeq), ...toMetrics(metrics)], true, 0);
  }

  dbirth(deviceId: string, readings: Readings, qos: 0 | 1 = 0): Promise<unknown> {
    return this.#publish(this.topic('DBIRTH', deviceId), toMetrics(readings), true, qos);
  }

  ddata(deviceId: string, readings: Readings, qos: 0 | 1 = 0): Promise<unknown> {
    return this.#publish(this.topic('DDATA', deviceId), toMetrics(readings), true, qos);
  }

  ddeath(deviceId: string): Promise<unknown> {
    return this.#publish(this.topic('DDEATH', deviceId), [], true, 0);
  }

  /** NDATA: the node's own metrics; at QoS 1 also a barrier (everything sent before it has been handled). */
  ndata(readings: Readings, qos: 0 | 1 = 0): Promise<unknown> {
    return this.#publish(this.topic('NDATA'), toMetrics(readings), true, qos);
  }

  /** A clean shutdown: NDEATH published by the node itself, then DISCONNECT (the will is not sent). */
  async shutdown(): Promise<void> {
    await this.client.publishAsync(this.topic('NDEATH'), Buffer.from(this.#payload([bdSeqMetric(this.bdSeq)], false)), { qos: 1 });
    await this.client.endAsync();
  }

  /** The next life's bdSeq, for a reconnect (0–255 wrapping). */
  nextLife(): void {
    this.bdSeq = (this.bdSeq + 1) % 256;
  }

  #payload(metrics: UMetric[], withSeq: boolean, seq = this.#seq): Uint8Array {
    const now = this.#options.now?.();
    return encodeSparkplug({ ...(now === undefined ? {} : { timestamp: now }), metrics, ...(withSeq ? { seq } : {}) });
  }

  #publish(topic: string, metrics: UMetric[], withSeq: boolean, qos: 0 | 1): Promise<unknown> {
    const payload = this.#payload(metrics, withSeq);
    this.#seq = (this.#seq + 1) % 256;
    return this.client.publishAsync(topic, Buffer.from(payload), { qos });
  }
}

function bdSeqMetric(bdSeq: number): UMetric {
  return { name: 'bdSeq', type: 'UInt64', value: bdSeq };
}

function toMetrics(readings: Readings): UMetric[] {
  return Object.entries(readings).map(([name, value]) =>
    typeof value === 'string' ? { name, type: 'String', value } : { name, type: 'Double', value },
  );
}
