import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { emptyStats } from './fleet.js';
import { buildPlan } from './plan.js';
import { createProgress } from './progress.js';
import {
  assertMatchesScenario,
  provisionScenario,
  readCredentials,
  writeCredentials,
  type Provisioned,
} from './provision.js';
import { runRealtime } from './realtime-driver.js';
import { contractsTable, runSummary, simulateVirtual, verifyContract } from './run.js';
import { createApiClient } from '../src/provisioning/index.js';
import { toShanghaiIso } from '../src/time/shanghai.js';
import { loadScenario, ScenarioError, type Scenario } from './scenario.js';
import { systemClock } from '../src/clock.js';
import { gatewayEnv } from '../src/config.js';

const USAGE = `gateway-sim — honest and dishonest device fleets over real MQTT

usage:
  gateway-sim validate <scenario.yaml|json>
  gateway-sim run <scenario> [--virtual] [--days N] [--seed N] [--quiet] [--json] [--keep] [--gateway-thread worker|main]
      virtual time (default): starts the gateway on a virtual clock in a temporary data dir,
      provisions the scenario, plays it, prints verification per contract. --keep leaves that
      gateway running (Ctrl-C to stop). The gateway gets a worker thread (a core of its own)
      when a tick carries ~20 heartbeats or more, else shares the simulator's thread;
      --gateway-thread worker|main decides instead.
  gateway-sim run <scenario> --realtime --url http://127.0.0.1:8080 --admin-key KEY
                  [--mqtt mqtt://127.0.0.1:1883] [--credentials FILE] [--duration 10m]
      real time against a running gateway. With --credentials, reads the device tokens from
      FILE if it exists, else provisions the scenario and writes them there.
  gateway-sim provision <scenario> --url URL --admin-key KEY --out FILE

environment: GATEWAY_URL and GATEWAY_API_KEY stand in for --url and --admin-key.
scenario files: see simulators/scenarios/*.yaml and simulators/scenario.ts.`;

function fail(message: string): never {
  process.stderr.write(`gateway-sim: ${message}\n`);
  process.exit(2);
}

function durationMs(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) fail(`not a duration: ${text} (e.g. 90s, 10m, 2h, 1d)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] ?? 's']!;
  return Number(m[1]) * unit;
}

function withOverrides(s: Scenario, values: { days?: string | undefined; seed?: string | undefined }): Scenario {
  return {
    ...s,
    ...(values.days ? { days: Number(values.days) } : {}),
    ...(values.seed ? { seed: Number(values.seed) } : {}),
  };
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      virtual: { type: 'boolean' },
      realtime: { type: 'boolean' },
      url: { type: 'string' },
      mqtt: { type: 'string' },
      'admin-key': { type: 'string' },
      credentials: { type: 'string' },
      out: { type: 'string' },
      duration: { type: 'string' },
      days: { type: 'string' },
      seed: { type: 'string' },
      quiet: { type: 'boolean' },
      json: { type: 'boolean' },
      keep: { type: 'boolean' },
      'gateway-thread': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, file] = positionals;
  if (values.help || !command) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  if (!file) fail(`${command} needs a scenario file\n\n${USAGE}`);
  const scenario = withOverrides(loadScenario(file), values);

  if (command === 'validate') {
    const devices = scenario.contracts.reduce((n, c) => n + c.fleets.reduce((m, f) => m + f.devices, 0), 0);
    process.stdout.write(`${file}: valid — ${scenario.contracts.length} contracts, ${devices} devices, ${scenario.days} days, seed ${scenario.seed}\n`);
    return;
  }

  const env = gatewayEnv();
  const url = values.url ?? env.GATEWAY_URL;
  const adminKey = values['admin-key'] ?? env.GATEWAY_API_KEY;

  if (command === 'provision') {
    if (!url || !adminKey || !values.out) fail('provision needs --url, --admin-key and --out');
    const provisioned = await provisionScenario(createApiClient(url, adminKey), scenario, { runId: runIdNow() });
    writeCredentials(values.out, provisioned);
    process.stdout.write(`provisioned ${provisioned.contracts.length} contracts, ${provisioned.fleets.reduce((n, f) => n + f.devices.length, 0)} devices → ${values.out}\n`);
    return;
  }
  if (command !== 'run') fail(`unknown command ${command}\n\n${USAGE}`);

  if (values.realtime) {
    if (!url || !adminKey) fail('--realtime needs --url and --admin-key (or GATEWAY_URL, GATEWAY_API_KEY)');
    await runRealtimeCommand(scenario, { url, adminKey, mqtt: values.mqtt, credentials: values.credentials, duration: values.duration, quiet: values.quiet ?? false });
    return;
  }

  const thread = values['gateway-thread'];
  if (thread !== undefined && thread !== 'worker' && thread !== 'main') fail(`--gateway-thread is worker or main, not ${thread}`);
  const session = await simulateVirtual(scenario, { progress: !values.quiet, ...(thread ? { thread } : {}) });
  const reports = [];
  for (const c of session.provisioned.contracts) reports.push({ name: c.name, verification: await verifyContract(session.gw.api, c.id, session.verifyAt) });
  if (values.json) {
    process.stdout.write(JSON.stringify({ summary: { ...session.stats, ticks: session.ticks, seconds: session.seconds }, contracts: reports }, null, 2) + '\n');
  } else {
    process.stdout.write(`${runSummary(session)}\n\nverification at ${toShanghaiIso(session.verifyAt)}\n${contractsTable(reports)}\n`);
  }
  if (values.keep) {
    process.stdout.write(`\ngateway running: http://127.0.0.1:${session.gw.gateway.httpPort}/  admin key: ${session.gw.adminKey}  (Ctrl-C to stop)\n`);
    await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  }
  await session.gw.close();
}

function runIdNow(): string {
  return `r${systemClock.now().toString(36)}`;
}

async function runRealtimeCommand(
  scenario: Scenario,
  o: { url: string; adminKey: string; mqtt: string | undefined; credentials: string | undefined; duration: string | undefined; quiet: boolean },
): Promise<void> {
  const api = createApiClient(o.url, o.adminKey);
  let provisioned: Provisioned;
  if (o.credentials && existsSync(o.credentials)) {
    provisioned = readCredentials(o.credentials);
    assertMatchesScenario(provisioned, scenario);
  } else {
    provisioned = await provisionScenario(api, scenario, { runId: runIdNow() });
    if (o.credentials) writeCredentials(o.credentials, provisioned);
  }
  let mqttUrl = o.mqtt;
  if (!mqttUrl) {
    const info = await api.json<{ mqtt: { host: string; port: number } }>('/v1/connection-info').catch(() => undefined);
    const host = new URL(o.url).hostname;
    mqttUrl = `mqtt://${host}:${info?.mqtt.port ?? 1883}`;
  }
  const target = new URL(mqttUrl);
  const stats = emptyStats();
  const start = systemClock.now();
  const end = start + (o.duration ? durationMs(o.duration) : Math.round(scenario.days * 86_400_000));
  const { devices } = buildPlan(scenario, provisioned, { target: { host: target.hostname, port: Number(target.port || 1883) }, stats, start, end });
  const progress = createProgress({ stats, devices: devices.length, start, end, enabled: !o.quiet });
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  process.stderr.write(`real time: ${devices.length} devices against ${mqttUrl} until ${new Date(end).toISOString()} (Ctrl-C to stop)\n`);
  await runRealtime({ devices, end, signal: abort.signal, onTick: progress.update });
  progress.done();
  const reports = [];
  for (const c of provisioned.contracts) reports.push({ name: c.name, verification: await verifyContract(api, c.id, systemClock.now()) });
  process.stdout.write(
    `${stats.sent} heartbeats sent, ${stats.acked} acked, ${stats.connects} connects (${stats.connectFailures} refused)\n\n${contractsTable(reports)}\n`,
  );
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof ScenarioError) fail(err.message);
  process.stderr.write(`gateway-sim: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
