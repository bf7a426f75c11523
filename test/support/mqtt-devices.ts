import net from 'node:net';
import mqtt from 'mqtt';
import type { SeededDevice } from './seed.js';

/**
 * A real mqtt.js client for a registered device. `localAddress` picks the source address
 * (any 127.0.0.0/8 address works on loopback), so tests can make devices come from
 * "different places".
 */
export function connectDevice(
  mqttPort: number,
  device: Pick<SeededDevice, 'id' | 'token'>,
  options: { localAddress?: string; clean?: boolean } = {},
): Promise<mqtt.MqttClient> {
  return new Promise((resolve, reject) => {
    const client = new mqtt.MqttClient(
      () => net.createConnection({ port: mqttPort, host: '127.0.0.1', ...(options.localAddress ? { localAddress: options.localAddress } : {}) }),
      { clientId: device.id, username: device.id, password: device.token, reconnectPeriod: 0, connectTimeout: 5000, clean: options.clean ?? true },
    );
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
  });
}

export function heartbeat(client: mqtt.MqttClient, deviceId: string, payload: Record<string, unknown>, qos: 0 | 1 = 1) {
  return client.publishAsync(`v1/devices/${deviceId}/heartbeat`, JSON.stringify(payload), { qos });
}
