import net from 'node:net';
import mqtt from 'mqtt';
import type { HeartbeatAction } from './profiles.js';

/**
 * Real MQTT connections (mqtt.js) for simulated devices: CONNECT with the device's id and
 * token, heartbeats on `v1/devices/{id}/heartbeat`, and `end` for outages and power-off.
 * Reconnection is the schedule's business (back-off is part of the profile), so mqtt.js'
 * own reconnect is off.
 */
export interface DeviceCredentials {
  id: string;
  token: string;
}

export interface FleetTarget {
  host: string;
  port: number;
}

export interface FleetStats {
  connects: number;
  connectFailures: number;
  disconnects: number;
  sent: number;
  acked: number;
  replaysSent: number;
  publishFailures: number;
  /** Devices with an open connection right now. */
  connected: number;
}

export function emptyStats(): FleetStats {
  return { connects: 0, connectFailures: 0, disconnects: 0, sent: 0, acked: 0, replaysSent: 0, publishFailures: 0, connected: 0 };
}

const LOOPBACK = /^(127\.|localhost$|::1$)/;

export class SimDevice {
  #client: mqtt.MqttClient | undefined;
  lastError: string | undefined;

  constructor(
    readonly credentials: DeviceCredentials,
    readonly qos: 0 | 1,
    /** Local address to connect from (only honoured against a loopback gateway). */
    readonly localAddress: string | undefined,
    private readonly target: FleetTarget,
    private readonly stats: FleetStats,
  ) {}

  get isConnected(): boolean {
    return this.#client !== undefined;
  }

  async connect(): Promise<boolean> {
    if (this.#client) return true;
    const { host, port } = this.target;
    const localAddress = this.localAddress && LOOPBACK.test(host) ? this.localAddress : undefined;
    try {
      this.#client = await new Promise<mqtt.MqttClient>((resolve, reject) => {
        // No Nagle: a heartbeat is one small packet that should leave now, not wait for an ACK.
        const connect = () => net.createConnection({ host, port, noDelay: true, ...(localAddress ? { localAddress } : {}) });
        const client = new mqtt.MqttClient(connect, {
          clientId: this.credentials.id,
          username: this.credentials.id,
          password: this.credentials.token,
          protocolVersion: 4,
          reconnectPeriod: 0,
          connectTimeout: 10_000,
          keepalive: 60,
          clean: true,
        });
        client.once('connect', () => {
          client.removeAllListeners('error');
          client.on('error', (err) => (this.lastError = err.message));
          client.once('close', () => {
            if (this.#client === client) {
              this.#client = undefined;
              this.stats.connected--;
            }
          });
          resolve(client);
        });
        client.once('error', (err) => {
          client.end(true);
          reject(err);
        });
        client.once('close', () => reject(new Error('connection closed before CONNACK')));
      });
      this.stats.connects++;
      this.stats.connected++;
      return true;
    } catch (err) {
      this.lastError = (err as Error).message;
      this.stats.connectFailures++;
      return false;
    }
  }

  /** Publishes a heartbeat; for QoS 1 resolves on PUBACK, for QoS 0 once written. */
  async publish(hb: HeartbeatAction): Promise<void> {
    const client = this.#client;
    if (!client) return;
    const payload = JSON.stringify({ seq: hb.seq, ts: hb.ts, status: hb.status, metrics: hb.metrics });
    this.stats.sent++;
    if (hb.replay) this.stats.replaysSent++;
    try {
      await client.publishAsync(`v1/devices/${this.credentials.id}/heartbeat`, payload, { qos: this.qos });
      if (this.qos === 1) this.stats.acked++;
    } catch (err) {
      this.lastError = (err as Error).message;
      this.stats.publishFailures++;
    }
  }

  /** Closes the connection (an outage or power-off: the device does not say goodbye). */
  async disconnect(): Promise<void> {
    const client = this.#client;
    if (!client) return;
    this.#client = undefined;
    this.stats.connected--;
    this.stats.disconnects++;
    await client.endAsync(true).catch(() => undefined);
  }
}
