import { connect as netConnect } from 'node:net';
import mqtt, { MqttClient, type IClientOptions } from 'mqtt';

/**
 * mqtt.js client whose TCP connection leaves from `localAddress` (a 127.x.y.z loopback address),
 * so a fleet can come from many source addresses as real devices do — the gateway keeps
 * per-source state (lock-step fingerprints, connection admission).
 */
export function connectClient(url: string, options: IClientOptions, localAddress?: string): MqttClient {
  if (localAddress === undefined) return mqtt.connect(url, options);
  const { hostname, port } = new URL(url);
  return new MqttClient(() => netConnect({ host: hostname, port: Number(port), localAddress }), { ...options, protocol: 'mqtt', hostname, port: Number(port) });
}

/** Device i's source address when the fleet is spread over `sources` addresses (127.1.x.y). */
export function sourceAddress(index: number, sources: number | undefined): string | undefined {
  if (!sources || sources <= 1) return undefined;
  const n = index % sources;
  return `127.1.${(n >> 8) & 255}.${(n & 255) + 1}`;
}

/** A bench device's client: its own id and token, MQTT 3.1.1, no reconnects, a clean session, leaving from its source address. */
export function connectDevice(url: string, device: { id: string; token: string; index: number }, sources: number | undefined, timing: { keepalive: number; connectTimeout: number }): MqttClient {
  const options: IClientOptions = { clientId: device.id, username: device.id, password: device.token, protocolVersion: 4, reconnectPeriod: 0, clean: true, ...timing };
  return connectClient(url, options, sourceAddress(device.index, sources));
}
