/**
 * Docker cannot run on this machine, so the deployment files are validated as data: the
 * compose file's services, ports, volumes, health checks and environment are checked
 * against the gateway's configuration schema (src/config.ts), and the Dockerfile against
 * what the compose file relies on.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { HAPROXY_BINARY } from '../../../cluster/haproxy.js';
import { configSchema, loadConfig } from '../../../src/config.js';

const root = new URL('../../../', import.meta.url);
const compose = parse(readFileSync(new URL('docker-compose.yml', root), 'utf8')) as {
  services: Record<string, {
    build?: unknown; image?: string; profiles?: string[]; ports?: string[]; environment?: Record<string, string>; volumes?: string[];
    depends_on?: Record<string, { condition: string }> | string[]; healthcheck?: { test: string[] };
    deploy?: { replicas: string | number }; networks?: string[] | Record<string, { ipv4_address?: string } | null>;
  }>;
  volumes: Record<string, unknown>;
  networks: Record<string, { ipam: { config: Array<{ subnet: string }> } }>;
};
const dockerfile = readFileSync(new URL('Dockerfile', root), 'utf8');
const gateway = compose.services.gateway!;
const influxdb = compose.services.influxdb!;
const gatewayPostgres = compose.services['gateway-postgres']!;
const postgres = compose.services.postgres!;

/** Compose interpolation `${NAME:-default}` as docker compose does it with NAME unset; `${NAME:?…}` (required) from `given`. */
function interpolate(value: string, given: Record<string, string> = {}): string {
  return String(value)
    .replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1')
    .replace(/\$\{([A-Z_]+):\?[^}]*\}/g, (_, name: string) => {
      if (given[name] === undefined) throw new Error(`compose would refuse to start without ${name}`);
      return given[name];
    });
}

describe('docker-compose.yml', () => {
  it('has a gateway built from the Dockerfile and an InfluxDB 1.8 service, and PostgreSQL with its gateway behind the postgres profile', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['gateway', 'gateway-node', 'gateway-postgres', 'haproxy', 'influxdb', 'postgres']);
    expect(gateway.profiles).toBeUndefined();
    expect(influxdb.profiles).toBeUndefined();
    expect(gatewayPostgres.profiles).toEqual(['postgres']);
    expect(postgres.profiles).toEqual(['postgres', 'cluster']);
    expect(gatewayPostgres.build).toBe('.');
    expect(postgres.image).toBe('postgres:15-bookworm');
    expect(gateway.build).toBe('.');
    expect(influxdb.image).toBe('influxdb:1.8');
  });

  it('publishes MQTT 1883 and HTTP 8080 on the gateway only', () => {
    expect(gateway.ports).toEqual(expect.arrayContaining(['1883:1883', '8080:8080']));
    expect(influxdb.ports).toBeUndefined();
    // Both gateways may run at once (profile postgres adds the second): no port published twice.
    expect(gatewayPostgres.ports).toEqual(expect.arrayContaining(['1884:1883', '8081:8080']));
    expect(postgres.ports).toBeUndefined();
  });

  it('gives each service a named volume', () => {
    expect(gateway.volumes).toContain('gateway-data:/data');
    expect(influxdb.volumes).toContain('influxdb-data:/var/lib/influxdb');
    expect(gatewayPostgres.volumes).toContain('gateway-postgres-data:/data');
    expect(postgres.volumes).toContain('postgres-data:/var/lib/postgresql/data');
    expect(Object.keys(compose.volumes).sort()).toEqual(['cluster-keys', 'gateway-data', 'gateway-postgres-data', 'influxdb-data', 'postgres-data']);
  });

  it('sets only variables the config schema knows, and they parse to an influx-backed gateway', () => {
    const env = gateway.environment!;
    const known = Object.keys(configSchema.shape);
    for (const key of Object.keys(env)) expect(known, `${key} is not in configSchema`).toContain(key);
    const config = loadConfig(Object.fromEntries(Object.entries(env).map(([k, v]) => [k, interpolate(v)])));
    expect(config.http).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(config.mqtt).toMatchObject({ host: '0.0.0.0', port: 1883 });
    expect(config.dataDir).toBe('/data');
    expect(config.store).toEqual({ kind: 'influx', url: 'http://influxdb:8086/heartbeats', retentionDays: 400, bufferMax: 200_000 });
  });

  it('points GATEWAY_INFLUX_URL at the influxdb service and starts the gateway once it is healthy', () => {
    const url = new URL(gateway.environment!.GATEWAY_INFLUX_URL!);
    expect(url.hostname).toBe('influxdb');
    expect(url.pathname).toBe('/heartbeats');
    expect(gateway.depends_on).toEqual({ influxdb: { condition: 'service_healthy' } });
    expect(influxdb.healthcheck?.test).toEqual(['CMD', 'influx', '-execute', 'SHOW DATABASES']);
  });

  it('configures the second gateway for the postgres service: GATEWAY_STORE=postgres, its database URL, started once PostgreSQL is healthy', () => {
    const env = gatewayPostgres.environment!;
    const known = Object.keys(configSchema.shape);
    for (const key of Object.keys(env)) expect(known, `${key} is not in configSchema`).toContain(key);
    const config = loadConfig(Object.fromEntries(Object.entries(env).map(([k, v]) => [k, interpolate(v)])));
    expect(config.store).toEqual({ kind: 'postgres', url: 'postgres://gateway:gateway@postgres:5432/gateway' });
    const url = new URL(interpolate(env.GATEWAY_DATABASE_URL!));
    expect([url.hostname, url.port, url.pathname, url.username]).toEqual(['postgres', '5432', '/gateway', postgres.environment!.POSTGRES_USER]);
    expect(url.password).toBe(interpolate(postgres.environment!.POSTGRES_PASSWORD!));
    expect(`/${postgres.environment!.POSTGRES_DB}`).toBe(url.pathname);
    expect(gatewayPostgres.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    expect(postgres.healthcheck?.test).toEqual(['CMD', 'pg_isready', '-U', 'gateway', '-d', 'gateway']);
  });

  it('refuses GATEWAY_STORE=postgres without a postgres:// GATEWAY_DATABASE_URL', () => {
    expect(() => loadConfig({ GATEWAY_STORE: 'postgres' })).toThrow(/GATEWAY_DATABASE_URL: required when GATEWAY_STORE=postgres/);
    expect(() => loadConfig({ GATEWAY_STORE: 'postgres', GATEWAY_DATABASE_URL: 'mysql://db/gateway' })).toThrow(/GATEWAY_DATABASE_URL: must be a postgres/);
  });

  it('health-checks the gateway on /healthz of the HTTP port it publishes', () => {
    const test = gateway.healthcheck!.test.join(' ');
    expect(test).toContain('http://127.0.0.1:8080/healthz');
    expect(gateway.ports).toContain(`${loadConfig({ GATEWAY_HTTP_PORT: gateway.environment!.GATEWAY_HTTP_PORT }).http.port}:8080`);
  });
});

describe('docker-compose.yml, cluster profile (issue 17)', () => {
  const node = compose.services['gateway-node']!;
  const haproxy = compose.services.haproxy!;
  const haproxyCfg = fileURLToPath(new URL('deploy/haproxy-compose.cfg', root));

  it('runs replicated gateway nodes sharing PostgreSQL and one signing key, published only through HAProxy', () => {
    expect(node.profiles).toEqual(['cluster']);
    expect(haproxy.profiles).toEqual(['cluster']);
    expect(Number(interpolate(String(node.deploy!.replicas)))).toBe(3);
    expect(node.ports).toBeUndefined();
    expect(haproxy.ports).toEqual(['1885:1883', '8082:8080']);
    expect(haproxy.image).toBe('haproxy:2.6');
    expect(haproxy.volumes).toEqual(['./deploy/haproxy-compose.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro']);
    expect(node.volumes).toEqual(['cluster-keys:/keys']);
    expect(node.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
  });

  it('requires an admin key, and its environment parses to a node keeping everything in PostgreSQL that trusts only HAProxy as a proxy', () => {
    const env = node.environment!;
    for (const key of Object.keys(env)) expect(Object.keys(configSchema.shape), `${key} is not in configSchema`).toContain(key);
    expect(() => interpolate(env.GATEWAY_ADMIN_KEY!)).toThrow(/GATEWAY_ADMIN_KEY/);
    const config = loadConfig(Object.fromEntries(Object.entries(env).map(([k, v]) => [k, interpolate(v, { GATEWAY_ADMIN_KEY: 'cluster-admin-key-0123456789' })])));
    expect(config.store).toEqual({ kind: 'postgres', url: 'postgres://gateway:gateway@postgres:5432/gateway' });
    expect(config.registryDatabase).toEqual({ kind: 'postgres', url: 'postgres://gateway:gateway@postgres:5432/gateway' });
    expect(config.signingKeyFile).toBe('/keys/signing-key.jwk');
    const haproxyAddress = (haproxy.networks as Record<string, { ipv4_address: string }>).cluster!.ipv4_address;
    expect(env.GATEWAY_TRUSTED_PROXIES).toBe(haproxyAddress);
    expect(compose.networks.cluster!.ipam.config[0]!.subnet).toBe('172.28.0.0/24');
    expect(haproxyAddress.startsWith('172.28.0.')).toBe(true);
  });

  it("HAProxy's compose config is valid for HAProxy and balances MQTT by source over the gateway-node replicas with PROXY v2", () => {
    const result = spawnSync(HAPROXY_BINARY, ['-c', '-f', haproxyCfg], { encoding: 'utf8' });
    expect(result.stdout + result.stderr).not.toMatch(/ALERT/);
    expect(result.status).toBe(0);
    const cfg = readFileSync(haproxyCfg, 'utf8');
    const mqtt = cfg.slice(cfg.indexOf('backend gateway_mqtt'), cfg.indexOf('frontend http'));
    expect(mqtt).toMatch(/balance source/);
    expect(mqtt).toMatch(/server-template node 1-8 gateway-node:1883 .*send-proxy-v2/);
    expect(cfg).toMatch(/server-template node 1-8 gateway-node:8080 check/);
  });
});

describe('Dockerfile', () => {
  it('builds in stages on node:20-bookworm-slim with a compiler only in the build stage', () => {
    const stages = [...dockerfile.matchAll(/^FROM (\S+) AS (\w+)/gm)].map((m) => [m[1], m[2]]);
    expect(stages).toEqual([['node:20-bookworm-slim', 'build'], ['node:20-bookworm-slim', 'runtime']]);
    const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'));
    expect(runtime).not.toMatch(/g\+\+|python3/);
    expect(dockerfile.slice(0, dockerfile.indexOf('AS runtime'))).toMatch(/python3 make g\+\+/);
  });

  it('runs as the non-root node user, exposes 1883 and 8080, health-checks /healthz and starts what npm start starts', () => {
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^EXPOSE 1883 8080$/m);
    expect(dockerfile).toMatch(/HEALTHCHECK[\s\S]*\/healthz/);
    // node itself as PID 1 (npm would not forward SIGTERM): same entry point as `npm start`.
    expect(dockerfile).toMatch(/^CMD \["node", "--import", "tsx", "src\/main\.ts"\]$/m);
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { scripts: Record<string, string>; dependencies: Record<string, string> };
    expect(pkg.scripts.start).toBe('node --import tsx src/main.ts');
    expect(pkg.dependencies.tsx).toBeDefined(); // npm start must work after `npm prune --omit=dev`
  });

  it('sets only GATEWAY_* variables the config schema knows', () => {
    const envBlock = dockerfile.match(/^ENV ([\s\S]*?)\n(?!\s)/m)![1]!;
    const keys = [...envBlock.matchAll(/(GATEWAY_[A-Z_]+)=/g)].map((m) => m[1]!);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(Object.keys(configSchema.shape)).toContain(key);
  });
});
