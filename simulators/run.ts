import type { z } from 'zod';
import type { verificationReportSchema } from '../src/api/schemas/verification.js';
import { emptyStats, type FleetStats } from './fleet.js';
import { startInProcessGateway, type GatewayThread, type InProcessGateway } from './in-process.js';
import { buildPlan, type DeviceInfo } from './plan.js';
import { createProgress } from './progress.js';
import type { ApiClient } from '../src/provisioning/index.js';
import { provisionScenario, type Provisioned } from './provision.js';
import { scenarioEndMs, scenarioStartMs, type Scenario } from './scenario.js';
import { runVirtual } from './virtual-driver.js';
import { monotonicMs } from '../src/clock.js';
import { FRAUD_SIGNAL_CODES, SIGNAL_CODES } from '../src/verifier/index.js';

export interface VirtualSession {
  gw: InProcessGateway;
  scenario: Scenario;
  provisioned: Provisioned;
  devices: DeviceInfo[];
  stats: FleetStats;
  ticks: number;
  /** Wall-clock seconds of the simulation itself (not provisioning). */
  seconds: number;
  /** Verification time: `verifyAt`, else the end of the run. */
  verifyAt: number;
}

/**
 * Where the gateway of a scenario runs unless told: in a worker thread when a tick carries
 * enough heartbeats for the fleet and the gateway to work side by side (1,000 devices × 30
 * days: ~72 s in one thread, 50–54 s in two), in the simulator's thread when ticks carry a few
 * (the detection scenario, ~5 a tick: every QoS 1 tick would pay two cross-thread wake-ups,
 * 69–72 s in one thread against 83 s in two).
 */
export function defaultGatewayThread(scenario: Scenario): GatewayThread {
  const perTick = scenario.contracts
    .flatMap((c) => c.fleets)
    .reduce((n, f) => n + f.devices * Math.min(1, scenario.tickMs / (f.intervalSec * 1000)), 0);
  return perTick >= WORKER_MIN_HEARTBEATS_PER_TICK ? 'worker' : 'main';
}

/** Expected heartbeats per tick (all devices online) from which the gateway gets a thread of its own. */
const WORKER_MIN_HEARTBEATS_PER_TICK = 20;

/**
 * Virtual time, end to end: starts the gateway on a virtual clock at the scenario's start (in a
 * worker thread or in this one: `thread`, else defaultGatewayThread), provisions the scenario
 * through the HTTP API, plays every device's schedule in ticks over real MQTT connections, and
 * leaves the gateway running (the caller closes `gw`).
 */
export async function simulateVirtual(
  scenario: Scenario,
  options: { progress?: boolean; env?: Record<string, string | undefined>; keepDataDir?: boolean; thread?: GatewayThread; tmpRoot?: string } = {},
): Promise<VirtualSession> {
  const start = scenarioStartMs(scenario);
  const end = scenarioEndMs(scenario);
  // QoS 0 only: nothing waits for a commit but settle(), which flushes; a commit a tick instead of one every turn of the event loop.
  const qos0Only = scenario.contracts.every((c) => c.fleets.every((f) => f.qos === 0));
  const gw = await startInProcessGateway({
    start,
    env: { ...(qos0Only ? { GATEWAY_COMMIT_INTERVAL_MS: '1000' } : {}), ...options.env },
    ...(options.keepDataDir ? { keepDataDir: true } : {}),
    ...(options.tmpRoot ? { tmpRoot: options.tmpRoot } : {}),
    thread: options.thread ?? defaultGatewayThread(scenario),
  });
  try {
    const provisioned = await provisionScenario(gw.api, scenario, { runId: `s${scenario.seed}` });
    const stats = emptyStats();
    const { devices, info } = buildPlan(scenario, provisioned, { target: { host: '127.0.0.1', port: gw.gateway.mqttPort }, stats, start, end });
    const progress = createProgress({ stats, devices: devices.length, start, end, enabled: options.progress ?? false });
    const t0 = monotonicMs();
    // If the gateway's thread dies, connections waiting for a PUBACK would wait for ever: end them, and stop at the next tick.
    gw.onFailure(() => {
      for (const d of devices) void d.device.disconnect();
    });
    const check = () => {
      if (gw.failure) throw gw.failure;
    };
    const result = await runVirtual({ clock: gw.clock, devices, stats, start, end, tickMs: scenario.tickMs, settle: gw.settle, settleConnections: gw.settleConnections, onTick: progress.update, check });
    await gw.gateway.flush();
    const seconds = (monotonicMs() - t0) / 1000;
    progress.done();
    return {
      gw,
      scenario,
      provisioned,
      devices: info,
      stats,
      ticks: result.ticks,
      seconds,
      verifyAt: scenario.verifyAt ? Date.parse(scenario.verifyAt) : end,
    };
  } catch (err) {
    await gw.close().catch(() => undefined); // the error that stopped the run is the one to report
    throw err;
  }
}

// ── verification through the API ─────────────────────────────────────────────────────────

/** The verification report as GET /v1/contracts/{id}/verification returns it (its zod schema, so the two cannot drift). */
export type ContractVerification = z.infer<typeof verificationReportSchema>;
export type DeviceVerification = ContractVerification['devices'][number];

export function verifyContract(api: ApiClient, contractId: string, at: number): Promise<ContractVerification> {
  return api.json<ContractVerification>(`/v1/contracts/${contractId}/verification?at=${encodeURIComponent(new Date(at).toISOString())}`);
}

export interface RedemptionDecision {
  /** `submitted`: left for a reviewer (a fraud signal awaits acknowledgement). */
  decision: 'approved' | 'rejected' | 'submitted';
  redemptionId: number | null;
  voucherFen: number;
  payableFen: number;
  requiredDevices: number | null;
  activeDevices: number | null;
  reasons: Array<{ code: string; clause: string; message: string; effect?: string }>;
}

/**
 * Redemption with complete paperwork (SPEC rules 10, 12: amounts, documents and dates in
 * order), so the device check is what decides. The application time is the gateway's clock
 * (the simulation leaves it at the verification time), never a time sent from here.
 */
export function redeem(api: ApiClient, contract: { id: string; voucherFen: number }, contractAmountFen: number): Promise<RedemptionDecision> {
  return api.json<RedemptionDecision>(`/v1/contracts/${contract.id}/redemption`, {
    body: {
      invoiceNumber: `INV-${contract.id}`,
      invoiceAmountFen: contractAmountFen,
      invoiceDate: '2020-10-15',
      paymentProofAmountFen: contractAmountFen,
      paymentDate: '2020-10-20',
      paidAmountFen: contractAmountFen,
      acceptanceReport: true,
      acceptanceReportDate: '2020-11-01',
      contractSignedAt: '2020-06-01',
    },
  });
}

// ── formatting ───────────────────────────────────────────────────────────────────────────

export const FRAUD_SIGNALS = FRAUD_SIGNAL_CODES;
export const ALL_SIGNALS = SIGNAL_CODES;

/** A plain text table: columns padded to the widest cell (CJK characters count double). */
export function formatTable(header: string[], rows: Array<Array<string | number>>): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const width = (s: string) => [...s].reduce((w, ch) => w + (/[\u3000-\u9fff\uff00-\uffef]/.test(ch) ? 2 : 1), 0);
  const widths = header.map((_, i) => Math.max(...cells.map((r) => width(r[i] ?? ''))));
  const line = (r: string[]) => r.map((c, i) => c + ' '.repeat(widths[i]! - width(c))).join('  ').trimEnd();
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export function signalSummary(counts: Record<string, number>): string {
  const parts = ALL_SIGNALS.filter((s) => counts[s]).map((s) => `${s} ${counts[s]}`);
  return parts.length ? parts.join(', ') : 'none';
}

export function yuan(fen: number): string {
  return (fen / 100).toLocaleString('en-US', { minimumFractionDigits: 0, maximumFractionDigits: 2 });
}

/** The contracts table printed at the end of a run. */
export function contractsTable(rows: Array<{ name: string; verification: ContractVerification }>): string {
  return formatTable(
    ['contract', 'item', 'voucher ¥', 'required', 'registered', 'active', 'passed', 'signals'],
    rows.map(({ name, verification: v }) => [
      name,
      `#${v.catalogId}`,
      yuan(v.voucherFen),
      v.requiredDevices ?? '-',
      v.registeredDevices,
      v.activeDevices,
      v.passed === null ? '-' : v.passed ? 'yes' : 'NO',
      signalSummary(v.signalCounts),
    ]),
  );
}

export function runSummary(session: Pick<VirtualSession, 'stats' | 'devices' | 'ticks' | 'seconds' | 'scenario'>): string {
  const { stats } = session;
  return (
    `simulated ${session.devices.length} devices × ${session.scenario.days} days in ${session.seconds.toFixed(1)} s ` +
    `(${session.ticks} ticks of ${session.scenario.tickMs} ms): ${stats.sent} heartbeats sent, ${stats.acked} acked, ` +
    `${stats.replaysSent} replays, ${stats.connects} connects (${stats.connectFailures} refused), ${stats.publishFailures} publish failures`
  );
}
