/**
 * The HAProxy configuration the cluster launcher renders (cluster/haproxy.ts), held to
 * HAProxy's own parser (`haproxy -c`) and to the choices issue 17 asks for.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HAPROXY_BINARY, renderHaproxyConfig, type HaproxyOptions } from '../../../cluster/haproxy.js';

const dir = mkdtempSync(join(tmpdir(), 'gw-haproxy-cfg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const options: HaproxyOptions = {
  mqttHost: '0.0.0.0',
  mqttPort: 1883,
  httpHost: '127.0.0.1',
  httpPort: 8080,
  statsPort: 9000,
  nodes: [
    { id: 'node-1', host: '127.0.0.1', mqttPort: 20001, httpPort: 21001 },
    { id: 'node-2', host: '127.0.0.1', mqttPort: 20002, httpPort: 21002 },
    { id: 'node-3', host: '10.0.0.3', mqttPort: 1883, httpPort: 8080 },
  ],
  proxyProtocol: true,
  maxConnections: 5000,
  checkIntervalMs: 1000,
};

/** `haproxy -c`: exit 0 only for a configuration HAProxy would run. */
function check(config: string): { status: number | null; output: string } {
  const file = join(dir, `c${Math.random().toString(36).slice(2)}.cfg`);
  writeFileSync(file, config);
  const r = spawnSync(HAPROXY_BINARY, ['-c', '-f', file], { encoding: 'utf8' });
  return { status: r.status, output: r.stdout + r.stderr };
}

const section = (config: string, name: string) => config.split(/\n(?=\S)/).find((s) => s.startsWith(name)) ?? '';

describe('the cluster HAProxy configuration', () => {
  it('is valid for HAProxy, with and without PROXY protocol', () => {
    for (const proxyProtocol of [true, false]) {
      const result = check(renderHaproxyConfig({ ...options, proxyProtocol }));
      expect(result.output).not.toMatch(/ALERT/);
      expect(result.status).toBe(0);
    }
  });

  it('a broken configuration is refused by the same check (the check can fail)', () => {
    expect(check(renderHaproxyConfig(options).replace('balance source', 'balance nonsense')).status).not.toBe(0);
  });

  it('balances MQTT by source address over every node, consistently hashed, PROXY v2 only when asked', () => {
    const config = renderHaproxyConfig(options);
    const mqtt = section(config, 'backend gateway_mqtt');
    expect(mqtt).toMatch(/mode tcp/);
    expect(mqtt).toMatch(/balance source/);
    expect(mqtt).toMatch(/hash-type consistent/);
    const servers = mqtt.split('\n').filter((l) => l.trim().startsWith('server '));
    expect(servers.map((l) => l.trim().split(/\s+/).slice(1, 3))).toEqual([
      ['node-1', '127.0.0.1:20001'],
      ['node-2', '127.0.0.1:20002'],
      ['node-3', '10.0.0.3:1883'],
    ]);
    expect(servers.every((l) => l.includes('send-proxy-v2'))).toBe(true);
    const plain = section(renderHaproxyConfig({ ...options, proxyProtocol: false }), 'backend gateway_mqtt');
    expect(plain).not.toMatch(/send-proxy/);
  });

  it("checks each node's health on its HTTP port for both backends, and balances the API round robin with X-Forwarded-For", () => {
    const config = renderHaproxyConfig(options);
    for (const backend of ['backend gateway_mqtt', 'backend gateway_http']) {
      const servers = section(config, backend).split('\n').filter((l) => l.trim().startsWith('server '));
      expect(servers.map((l) => /check port (\d+)/.exec(l)?.[1])).toEqual(['21001', '21002', '8080']);
    }
    expect(section(config, 'backend gateway_http')).toMatch(/balance roundrobin/);
    expect(section(config, 'frontend http')).toMatch(/option forwardfor/);
    expect(section(config, 'frontend mqtt')).toMatch(/bind 0\.0\.0\.0:1883/);
  });
});
