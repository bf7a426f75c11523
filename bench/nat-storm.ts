/**
 * `npm run bench -- nat-storm` (issue 15 point 3): 3,000 honest devices behind one NAT address
 * reconnect at once against a gateway with the *default* flood control (a real clock, a child
 * process). Before the fix the address was banned after 1,000 connections and the other 2,000
 * devices never connected; now the per-address connection bucket spreads them out and every
 * device must end up connected, with no ban.
 */
import mqtt from 'mqtt';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { counterValues } from '../test/support/fuzz.js';
import { spawnGateway } from '../test/support/child-gateway.js';
import { stopAfterReady } from '../test/support/qos1-load.js';
import { TEST_ADMIN_KEY } from '../test/support/gateway.js';
import { seedContract } from '../test/support/seed.js';
import type { ResultRow } from './report.js';

export interface NatStormRun {
  devices: number;
  secondsToAllConnected: number | null;
  connected: number;
  refusedAtAccept: number;
  bans: number;
}

export async function runNatStorm(options: { devices: number; deadlineS: number; log: (s: string) => void }): Promise<{ rows: ResultRow[]; details: NatStormRun }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-nat-storm-'));
  const gw = await spawnGateway(dataDir, {});
  const mqttPort = Number(new URL(gw.mqttUrl).port);
  const clients: mqtt.MqttClient[] = [];
  try {
    const fleet = await seedContract(gw, { devices: options.devices });
    const nat = '127.0.5.1';
    const started = performance.now();
    for (const d of fleet.devices) {
      const c = new mqtt.MqttClient(() => net.createConnection({ port: mqttPort, host: '127.0.0.1', localAddress: nat }), {
        clientId: d.id,
        username: d.id,
        password: d.token,
        reconnectPeriod: 1_000, // mqtt.js's default back-off
        connectTimeout: 30_000,
      });
      c.on('error', () => undefined);
      clients.push(c);
    }
    let secondsToAllConnected: number | null = null;
    while ((performance.now() - started) / 1000 < options.deadlineS) {
      await new Promise((r) => setTimeout(r, 100));
      if (clients.every((c) => c.connected)) {
        secondsToAllConnected = (performance.now() - started) / 1000;
        break;
      }
    }
    const metrics = await (await fetch(`${gw.httpUrl}/metrics`, { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } })).text();
    const details: NatStormRun = {
      devices: options.devices,
      secondsToAllConnected,
      connected: clients.filter((c) => c.connected).length,
      refusedAtAccept: counterValues(metrics, 'gateway_mqtt_connections_refused_total').get('reason="rate-limited"') ?? 0,
      bans: [...counterValues(metrics, 'gateway_bans_total').values()].reduce((a, b) => a + b, 0),
    };
    options.log(`  ${JSON.stringify(details)}`);
    return {
      rows: [
        {
          benchmark: 'nat-storm',
          metric: `${options.devices.toLocaleString('en')} devices, one address: seconds to all connected`,
          unit: 's',
          gateway: secondsToAllConnected,
          target: `all connected within ${options.deadlineS} s, no ban`,
          met: secondsToAllConnected !== null && details.bans === 0,
          note: `${details.connected} connected, ${details.refusedAtAccept} refused at accept (rate-limited), ${details.bans} bans`,
        },
      ],
      details,
    };
  } finally {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await stopAfterReady(gw);
    rmSync(dataDir, { recursive: true, force: true });
  }
}
