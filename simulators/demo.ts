import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { contractsTable, redeem, runSummary, signalSummary, simulateVirtual, verifyContract, yuan, type ContractVerification, type RedemptionDecision } from './run.js';
import { loadScenario } from './scenario.js';
import { runEdgeDemo } from './edge/edge-demo.js';
import { shanghaiDayStartOf } from '../src/time/shanghai.js';
import { monotonicMs } from '../src/clock.js';
import { gatewayEnv } from '../src/config.js';

/**
 * `npm run demo [-- --exit]`: one command from nothing to a verified, redeemed program.
 * Starts the gateway (embedded defaults: SQLite in a temporary data dir) on a virtual clock,
 * registers suppliers, enterprises and contracts for catalog items #5, #24 and #25, simulates
 * 30 days of their fleets over MQTT, prints each contract's verification and its redemption
 * decision, and leaves the gateway running for the web page (or exits with --exit).
 */
const DEMO_SCENARIO = fileURLToPath(new URL('./scenarios/demo.yaml', import.meta.url));

/** Expected per-contract lines of the demo, also asserted by test/e2e/demo.test.ts. */
export function verificationLine(name: string, v: ContractVerification): string {
  return `verification ${name}: required ${v.requiredDevices ?? '-'} registered ${v.registeredDevices} active ${v.activeDevices} passed ${v.passed === null ? '-' : v.passed ? 'yes' : 'no'} signals ${signalSummary(v.signalCounts)}`;
}

export function redemptionLine(name: string, r: RedemptionDecision): string {
  const failed = r.reasons.filter((x) => x.effect === 'reject').map((x) => x.code);
  return `redemption ${name}: ${r.decision} payable ¥${yuan(r.payableFen)} of ¥${yuan(r.voucherFen)}${failed.length ? ` (${[...new Set(failed)].join(', ')})` : ''}`;
}

interface SettlementBatch {
  id: number;
  totalFen: number;
  applicationIds: number[];
}

/** Port `preferred` if it is free on the host, else 0 (any free port). */
async function freePortOr(preferred: number, host: string): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(0));
    server.listen(preferred, host, () => server.close(() => resolve(preferred)));
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { exit: { type: 'boolean' }, quiet: { type: 'boolean' } } });
  const scenario = loadScenario(DEMO_SCENARIO);
  const t0 = monotonicMs();

  // Embedded defaults (API.md), except a temporary data dir; a port already taken falls back to a free one.
  const env: Record<string, string | undefined> = gatewayEnv();
  const host = env.GATEWAY_HTTP_HOST ?? '127.0.0.1';
  env.GATEWAY_HTTP_PORT ??= String(await freePortOr(8080, host));
  env.GATEWAY_MQTT_PORT ??= String(await freePortOr(1883, env.GATEWAY_MQTT_HOST ?? '127.0.0.1'));
  delete env.GATEWAY_DATA_DIR;

  const out = (s = '') => process.stdout.write(s + '\n');
  out(`demo: ${scenario.contracts.length} contracts, ${scenario.contracts.reduce((n, c) => n + c.fleets.reduce((m, f) => m + f.devices, 0), 0)} devices, ${scenario.days} days of virtual time from ${scenario.start}`);
  const session = await simulateVirtual(scenario, { progress: !values.quiet, env });
  const { gw } = session;
  out(runSummary(session));
  out();

  const at = session.verifyAt;
  const atIso = scenario.verifyAt ?? new Date(at).toISOString();
  const rows: Array<{ name: string; verification: ContractVerification }> = [];
  const decisions: Array<{ name: string; decision: RedemptionDecision }> = [];
  for (const c of session.provisioned.contracts) {
    const spec = scenario.contracts.find((s) => s.name === c.name)!;
    const verification = await verifyContract(gw.api, c.id, at);
    rows.push({ name: c.name, verification });
    decisions.push({ name: c.name, decision: await redeem(gw.api, c, spec.contractAmountFen) });
  }
  // A contract whose machines report through one Sparkplug B edge gateway (simulators/edge/).
  const edge = await runEdgeDemo(gw, { firstDay: shanghaiDayStartOf(Date.parse(scenario.start)), days: scenario.days, verifyAt: at, seed: scenario.seed });
  rows.push({ name: edge.name, verification: edge.verification });
  decisions.push({ name: edge.name, decision: edge.decision });
  // 37号 §一: approved applications are settled in order (cluster pilots first, then application time).
  const batch = await gw.api.json<SettlementBatch>('/v1/settlements', { body: {} });
  const settledNames = batch.applicationIds.map((id) => decisions.find((d) => d.decision.redemptionId === id)?.name ?? `#${id}`);

  out(`verification at ${atIso} (30-day window; active = ≥ 60 online minutes on ≥ 20 days)`);
  out(contractsTable(rows));
  out();
  for (const { name, verification } of rows) out(verificationLine(name, verification));
  out();
  out(`redemption decisions at ${atIso} (invoice, payment and acceptance report complete):`);
  for (const { name, decision } of decisions) out(redemptionLine(name, decision));
  out();
  out(`edge gateway ${edge.edgeNodeId}: GET /v1/edge-nodes/${edge.edgeNodeId} (each device's reportedVia names it in the verification)`);
  out();
  out(`settlement batch ${batch.id}: ${batch.applicationIds.length} applications, ¥${yuan(batch.totalFen)} (${settledNames.join(', ')}); CSV at /v1/settlements/${batch.id}/csv`);
  out();
  out(`demo finished in ${((monotonicMs() - t0) / 1000).toFixed(1)} s`);
  out(`web page: http://127.0.0.1:${gw.gateway.httpPort}/  admin key: ${gw.adminKey}`);
  out(`MQTT: mqtt://127.0.0.1:${gw.gateway.mqttPort}  (the gateway's clock stands at ${atIso})`);

  if (values.exit) {
    await gw.close();
    return;
  }
  out('the gateway keeps running; Ctrl-C to stop');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await gw.close();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`demo failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
