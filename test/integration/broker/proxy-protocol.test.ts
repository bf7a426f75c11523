import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHaproxy, startHaproxy, type RunningHaproxy } from '../../../cluster/haproxy.js';
import { VirtualClock } from '../../../src/clock.js';
import { counterValues, encodeConnect, RawMqtt } from '../../support/fuzz.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { selfSignedTlsEnv } from '../../support/tls.js';
import { connectDevice, heartbeat } from '../../support/mqtt-devices.js';
import { freePort } from '../../support/process.js';
import { seedContract, type SeededContract } from '../../support/seed.js';

/**
 * Issue 17 point 1 with real HAProxy processes in front of a real gateway that trusts them
 * (127.0.0.1): devices connect through HAProxy from other loopback addresses, and the gateway's
 * evidence names those addresses, not HAProxy's. The first HAProxy runs the cluster's own
 * configuration (cluster/haproxy.ts); the second adds what that one does not use: MQTT over TLS
 * passed through, and TCP health checks that carry a PROXY v2 LOCAL header. A PROXY header from
 * a peer that is not trusted is never read; the address it claims is stored nowhere.
 */
const HAPROXY_ADDRESS = '127.0.0.1';
const dir = mkdtempSync(join(tmpdir(), 'gw-proxy-'));
let gw: TestGateway;
const haproxies: RunningHaproxy[] = [];
let contract: SeededContract;
const ports = { mqtt: 0, http: 0, mqtts: 0, checked: 0 };
const AT = '2020-10-09T23:00:00+08:00';

beforeAll(async () => {
  gw = await startTestGateway({
    clock: new VirtualClock('2020-10-09T08:00:00+08:00'),
    env: {
      GATEWAY_TRUSTED_PROXIES: HAPROXY_ADDRESS,
      ...selfSignedTlsEnv(dir),
      GATEWAY_MQTT_CONNECT_TIMEOUT_MS: '1000',
      GATEWAY_API_AUTH_FAILURES: '3',
    },
  });
  contract = await seedContract(gw, { devices: 4 });
  for (const k of Object.keys(ports) as Array<keyof typeof ports>) ports[k] = await freePort();
  const httpPort = Number(new URL(gw.httpUrl).port);
  for (const sub of ['cluster', 'custom']) mkdirSync(join(dir, sub));
  haproxies.push(
    await startHaproxy(
      {
        mqttHost: '127.0.0.1',
        mqttPort: ports.mqtt,
        httpHost: '127.0.0.1',
        httpPort: ports.http,
        nodes: [{ id: 'n1', host: '127.0.0.1', mqttPort: gw.mqttPort, httpPort }],
        proxyProtocol: true,
        maxConnections: 200,
        checkIntervalMs: 200,
      },
      join(dir, 'cluster'),
    ),
  );
  // Checks of a send-proxy-v2 server without `port` open the MQTT port itself and send a
  // PROXY v2 LOCAL header: the gateway must take them without counting them as refusals.
  haproxies.push(
    await runHaproxy(
      [
        'defaults',
        '    mode tcp',
        '    timeout connect 2s',
        '    timeout client 60s',
        '    timeout server 60s',
        'listen mqtts',
        `    bind 127.0.0.1:${ports.mqtts}`,
        `    server n1 127.0.0.1:${gw.gateway.mqttTlsPort} send-proxy-v2`,
        'listen checked',
        `    bind 127.0.0.1:${ports.checked}`,
        `    server n1 127.0.0.1:${gw.mqttPort} send-proxy-v2 check inter 200`,
        '',
      ].join('\n'),
      [
        ['127.0.0.1', ports.mqtts],
        ['127.0.0.1', ports.checked],
      ],
      join(dir, 'custom'),
    ),
  );
});
afterAll(async () => {
  for (const h of haproxies) await h.stop();
  await gw?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function sourcesOf(deviceId: string): Promise<string[]> {
  await gw.gateway.flush();
  const report = await gw.json(`/v1/contracts/${contract.contractId}/verification?at=${encodeURIComponent(AT)}`);
  return report.devices.find((d: { id: string }) => d.id === deviceId).sources;
}

async function refusals(): Promise<Map<string, number>> {
  return counterValues(await (await gw.api('/metrics')).text(), 'gateway_mqtt_connections_refused_total');
}

describe('MQTT through HAProxy with PROXY protocol v2', () => {
  it('a device connecting from 127.0.0.5 through HAProxy is seen at 127.0.0.5 in the evidence', async () => {
    const device = contract.devices[0]!;
    const client = await connectDevice(ports.mqtt, device, { localAddress: '127.0.0.5' });
    await heartbeat(client, device.id, { seq: 1 });
    await client.endAsync();
    expect(await sourcesOf(device.id)).toEqual(['127.0.0.5']);
  });

  it('over TLS too: the header precedes the handshake, the device is seen at its own address', async () => {
    const device = contract.devices[1]!;
    const client = new mqtt.MqttClient(
      () => tlsConnect({ socket: netConnect({ port: ports.mqtts, host: '127.0.0.1', localAddress: '127.0.0.6' }), rejectUnauthorized: false }),
      { clientId: device.id, username: device.id, password: device.token, reconnectPeriod: 0 },
    );
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    await heartbeat(client, device.id, { seq: 1 });
    await client.endAsync();
    expect(await sourcesOf(device.id)).toEqual(['127.0.0.6']);
  });

  it('HAProxy’s health checks (PROXY LOCAL) are accepted and refused nothing', async () => {
    // inter 200 ms: several checks run within this wait.
    await new Promise((resolve) => setTimeout(resolve, 700));
    const refused = await refusals();
    expect([...refused.keys()].filter((k) => k.includes('proxy-header'))).toEqual([]);
  });

  it('a trusted address that sends no PROXY header is closed and counted, not taken as a device', async () => {
    const device = contract.devices[2]!;
    const before = (await refusals()).get('reason="proxy-header-invalid"') ?? 0;
    const { client, rc } = await RawMqtt.connect(gw.mqttPort, { clientId: device.id, username: device.id, password: device.token }, { localAddress: HAPROXY_ADDRESS });
    expect(rc).toBe(-1);
    await client.closed;
    expect((await refusals()).get('reason="proxy-header-invalid"')).toBe(before + 1);
    expect(await sourcesOf(device.id)).toEqual([]);
  });

  it('an untrusted peer’s PROXY header is not read: the connection fails as malformed MQTT and the claimed address is stored nowhere', async () => {
    const device = contract.devices[3]!;
    const raw = await RawMqtt.open(gw.mqttPort, { localAddress: '127.0.0.7' });
    // PROXY v2, TCP4, "from 203.0.113.66", then a valid CONNECT with the device's real token.
    const forged = Buffer.concat([
      Buffer.from('0d0a0d0a000d0a515549540a', 'hex'),
      Buffer.from([0x21, 0x11, 0x00, 0x0c, 203, 0, 113, 66, 127, 0, 0, 1, 0x9c, 0x40, 0x07, 0x5b]),
      encodeConnect({ clientId: device.id, username: device.id, password: device.token }),
    ]);
    raw.write(forged);
    await raw.closed;
    expect(raw.received).toEqual([]);
    const report = await gw.json(`/v1/contracts/${contract.contractId}/verification?at=${encodeURIComponent(AT)}`);
    expect(report.devices.find((d: { id: string }) => d.id === device.id).sources).toEqual([]);
    expect(JSON.stringify(report)).not.toContain('203.0.113.66');
    expect(JSON.stringify(await gw.json('/v1/audit?action=security.ban'))).not.toContain('203.0.113.66');
    // The same device through HAProxy is then seen where it really is.
    const client = await connectDevice(ports.mqtt, device, { localAddress: '127.0.0.8' });
    await client.endAsync();
    expect(await sourcesOf(device.id)).toEqual(['127.0.0.8']);
  });
});

/** A request through HAProxy (or directly) from a chosen loopback address. */
function request(port: number, localAddress: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/v1/suppliers', localAddress, headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the HTTP API through HAProxy (mode http, X-Forwarded-For)', () => {
  it('throttles failed API keys per client address, not per HAProxy, and ignores a forged X-Forwarded-For', async () => {
    const bad = { authorization: 'Bearer not-a-key-000000000000000000000000' };
    // Three failures from 127.0.0.11, each claiming another address in its own X-Forwarded-For.
    for (const forged of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) {
      expect(await request(ports.http, '127.0.0.11', { ...bad, 'x-forwarded-for': forged })).toBe(401);
    }
    expect(await request(ports.http, '127.0.0.11', bad)).toBe(429);
    // Another client behind the same HAProxy is not throttled.
    expect(await request(ports.http, '127.0.0.12', bad)).toBe(401);
    // A peer that is not a trusted proxy cannot pick its address with the header either.
    const httpPort = Number(new URL(gw.httpUrl).port);
    for (const forged of ['198.51.100.1', '198.51.100.2', '198.51.100.3']) {
      expect(await request(httpPort, '127.0.0.13', { ...bad, 'x-forwarded-for': forged })).toBe(401);
    }
    expect(await request(httpPort, '127.0.0.13', { ...bad, 'x-forwarded-for': '198.51.100.4' })).toBe(429);
    // The bans in the audit log name the clients, never HAProxy or a forged address.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const bans = (await gw.json('/v1/audit?action=security.ban')).items.map((e: { subject: string }) => e.subject);
    expect(bans.sort()).toEqual(['127.0.0.11', '127.0.0.13']);
  });
});
