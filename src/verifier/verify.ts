import { countMinutesUpTo, MINUTES_PER_DAY, type DeviceDayActivity } from '../activity/index.js';
import { shanghaiDayStart, shanghaiMinuteOfDay, toShanghaiIso } from '../time/shanghai.js';
import { reportDigest } from './digest.js';
import { describePolicy, type ActivityPolicy, type ReportPolicy } from './policy.js';
import { edgeFabricationSignal, edgeNodeReport, type EdgeFacts, type EdgeNodeReport } from './edge-signals.js';
import { sharedClocks, sharedLives, type DriftSums, type LifecycleEvent, type OneLifeEvidence, type SharedClockEvidence } from './fleet-signals.js';
import { deviceSignals, type DeviceEvidence, type DuplicateSerialFacts, type Signal } from './signals.js';
import { verificationWindow } from './window.js';

export interface VerificationContract {
  id: string;
  catalogId: number;
  voucherFen: number;
  /** ceil(voucher ÷ per-device subsidy) for items 5, 24, 25 (附件 说明2); null otherwise. */
  requiredDevices: number | null;
}

export interface VerificationDevice {
  id: string;
  serial: string;
}

export interface ConnectionFacts {
  connects: number;
  takeovers: number;
  sources: string[];
}

/** A reviewer's recorded decision: who, when (ISO), why. */
export interface ReviewNote {
  by: string;
  at: string;
  reason: string;
}

/** Reviewer decisions on this contract's evidence (SPEC rule 14), carried into the report and its digest. */
export interface ContractReviews {
  /** device id → why it is left out of the count. */
  exclusions: ReadonlyMap<string, ReviewNote>;
  /** serial → the reviewer's assignment, as seen from this contract. */
  serialAssignments: ReadonlyMap<string, ReviewNote & { assignedHere: boolean }>;
}

const NO_REVIEWS: ContractReviews = { exclusions: new Map(), serialAssignments: new Map() };

export interface VerificationInput {
  contract: VerificationContract;
  devices: readonly VerificationDevice[];
  /** Serials of this contract that are registered under other contracts too (only those). */
  duplicates: ReadonlyMap<string, DuplicateSerialFacts>;
  reviews?: ContractReviews;
  activity: readonly DeviceDayActivity[];
  connections: ReadonlyMap<string, ConnectionFacts>;
  /** replayed / duplicate sequence numbers per device within the window. */
  replaysByDevice: ReadonlyMap<string, number>;
  /** Clock-drift sums per device and day of the window (SHARED_CLOCK); absent: no evidence. */
  clockDays?: ReadonlyMap<string, readonly DriftSums[]>;
  /** Connects, take-overs and disconnects of the devices in the window (ONE_LIFE); absent: no evidence. */
  lifecycle?: readonly LifecycleEvent[];
  policy: ActivityPolicy;
  /** The program's default policy; the report marks every parameter of `policy` that differs. Default: `policy`. */
  defaultPolicy?: ActivityPolicy;
  /** Verification time, epoch ms. Activity after it is not counted. */
  at: number;
  /** Heartbeats per device per edge node it came through (absent: every device reported directly). */
  reportsVia?: ReadonlyMap<string, ReadonlyMap<string, number>>;
  /** What each edge node of those reports did over the window, without `children` (the verifier counts them). */
  edgeNodes?: ReadonlyMap<string, Omit<EdgeFacts, 'children'>>;
}

/** One line per way a device's heartbeats came in; `edgeNode: null` is its own connection. */
export interface ReportedVia {
  edgeNode: string | null;
  heartbeats: number;
}

export interface DeviceReport {
  id: string;
  serial: string;
  active: boolean;
  /**
   * Active, not excluded by a reviewer, not a duplicated serial held by another contract, and
   * without another signal listed in the policy's `excludingSignals`.
   */
  counted: boolean;
  /** A reviewer's exclusion from the count, or null. */
  excluded: ReviewNote | null;
  activeDays: number;
  onlineMinutes: number;
  heartbeats: number;
  firstSeen: string | null;
  lastSeen: string | null;
  sources: string[];
  reportedVia: ReportedVia[];
  /** Online minutes per window day (oldest first), for heat-maps. */
  dailyMinutes: number[];
  signals: Signal[];
}

export interface VerificationReport {
  contractId: string;
  catalogId: number;
  voucherFen: number;
  at: string;
  window: { from: string; to: string; days: string[] };
  policy: ReportPolicy;
  requiredDevices: number | null;
  registeredDevices: number;
  activeDevices: number;
  passed: boolean | null;
  signalCounts: Record<string, number>;
  /** Edge nodes the devices reported through, with what the EDGE_FABRICATION signal judged. */
  edgeNodes: EdgeNodeReport[];
  devices: DeviceReport[];
  /** Reviewer decisions in force (under the digest, so a report proves which decisions it used). */
  reviews: {
    exclusions: Array<ReviewNote & { deviceId: string }>;
    serialAssignments: Array<ReviewNote & { serial: string; assignedHere: boolean }>;
  };
  digest: string;
}

/**
 * Counts distinct active devices of one contract in the window ending at `at` — pure:
 * activity rows, registry facts and policy in, report out.
 *
 * Window: the `windowDays` Asia/Shanghai days ending with the day containing `at`; on that
 * last day only minutes up to and including the minute of `at` count. Heartbeat counts and
 * first/last seen come from whole device-days that started before `at`.
 */
export function verifyContract(input: VerificationInput): VerificationReport {
  const { policy, at } = input;
  const reviews = input.reviews ?? NO_REVIEWS;
  const { firstDay, days } = verificationWindow(at, policy.windowDays);
  const dayIndex = new Map(days.map((d, i) => [d, i]));
  const minuteOfAt = shanghaiMinuteOfDay(at);

  const rowsByDevice = new Map<string, DeviceDayActivity[]>();
  // Stores return a device's days together: the lookup is skipped while the device stays the same.
  let list: DeviceDayActivity[] | undefined;
  let listOf: string | undefined;
  for (const row of input.activity) {
    if (!dayIndex.has(row.day) || row.firstSeen > at) continue;
    if (row.deviceId !== listOf) {
      listOf = row.deviceId;
      list = rowsByDevice.get(listOf);
      if (!list) rowsByDevice.set(listOf, (list = []));
    }
    list!.push(row);
  }

  const { signals: edgeSignals, reports: edgeNodes } = edgeNodeSignals(input);
  const ids = new Set(input.devices.map((d) => d.id));
  const fleet: FleetEvidence = {
    clocks: sharedClocks(new Map([...(input.clockDays ?? new Map<string, DriftSums[]>())].filter(([id]) => ids.has(id))), policy),
    lives: sharedLives((input.lifecycle ?? []).filter((e) => ids.has(e.deviceId) && e.at <= at), policy),
  };
  const devices = [...input.devices]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((device) => reportDevice(device, rowsByDevice.get(device.id) ?? [], input, fleet, dayIndex, minuteOfAt, edgeSignals));

  const activeDevices = devices.filter((d) => d.counted).length;
  const required = input.contract.requiredDevices;
  const signalCounts: Record<string, number> = {};
  for (const d of devices) for (const s of d.signals) signalCounts[s.code] = (signalCounts[s.code] ?? 0) + 1;

  const report: VerificationReport = {
    contractId: input.contract.id,
    catalogId: input.contract.catalogId,
    voucherFen: input.contract.voucherFen,
    at: toShanghaiIso(at),
    window: { from: toShanghaiIso(shanghaiDayStart(firstDay)), to: toShanghaiIso(at), days },
    policy: describePolicy(policy, input.defaultPolicy ?? policy),
    requiredDevices: required,
    registeredDevices: devices.length,
    activeDevices,
    // 附件 说明2: connected devices ≥ voucher ÷ per-device subsidy; items without a per-device subsidy have no threshold.
    passed: required === null ? null : activeDevices >= required,
    signalCounts,
    edgeNodes,
    devices,
    reviews: {
      exclusions: [...reviews.exclusions].map(([deviceId, note]) => ({ deviceId, ...note })).sort((a, b) => (a.deviceId < b.deviceId ? -1 : 1)),
      serialAssignments: [...reviews.serialAssignments].map(([serial, note]) => ({ serial, ...note })).sort((a, b) => (a.serial < b.serial ? -1 : 1)),
    },
    digest: '',
  };
  report.digest = reportDigest(report);
  return report;
}

interface FleetEvidence {
  clocks: Map<string, SharedClockEvidence>;
  lives: Map<string, OneLifeEvidence>;
}

function reportDevice(
  device: VerificationDevice,
  rows: DeviceDayActivity[],
  input: VerificationInput,
  fleet: FleetEvidence,
  /** Window day → its index; the last is the day containing `at`. */
  dayIndex: Map<string, number>,
  minuteOfAt: number,
  edgeSignals: ReadonlyMap<string, Signal>,
): DeviceReport {
  const { policy, at } = input;
  const dailyMinutes = new Array<number>(dayIndex.size).fill(0);
  let heartbeats = 0;
  let firstSeen: number | null = null;
  let lastSeen: number | null = null;
  let skewSamples = 0;
  let skewAbsSumMs = 0;
  let coincident = 0;
  const lastIndex = dayIndex.size - 1;
  for (const row of rows) {
    const index = dayIndex.get(row.day)!;
    dailyMinutes[index] = index === lastIndex ? onlineMinutesUpTo(row, minuteOfAt) : row.onlineMinutes;
    heartbeats += row.heartbeats;
    firstSeen = firstSeen === null ? row.firstSeen : Math.min(firstSeen, row.firstSeen);
    const seen = Math.min(row.lastSeen, at);
    lastSeen = lastSeen === null ? seen : Math.max(lastSeen, seen);
    skewSamples += row.skewSamples;
    skewAbsSumMs += row.skewAbsSumMs;
    coincident += row.coincidentHeartbeats;
  }
  const activeDays = dailyMinutes.filter((m) => m >= policy.minOnlineMinutes).length;
  const onlineMinutes = dailyMinutes.reduce((a, b) => a + b, 0);
  const conn = input.connections.get(device.id);
  const evidence: DeviceEvidence = {
    serial: device.serial,
    duplicate: input.duplicates.get(device.serial),
    heartbeats,
    lastSeen,
    skewSamples,
    skewAbsSumMs,
    coincidentHeartbeats: coincident,
    replays: input.replaysByDevice.get(device.id) ?? 0,
    takeovers: conn?.takeovers ?? 0,
    sources: conn ? [...conn.sources].sort() : [],
  };
  const clock = fleet.clocks.get(device.id);
  if (clock) evidence.sharedClock = clock;
  const life = fleet.lives.get(device.id);
  if (life) evidence.oneLife = life;
  const signals = deviceSignals(evidence, policy, at);
  const via = input.reportsVia?.get(device.id);
  const reportedVia: ReportedVia[] = [];
  let throughEdges = 0;
  for (const [edgeNode, count] of via ? [...via].sort(([a], [b]) => (a < b ? -1 : 1)) : []) {
    throughEdges += count;
    reportedVia.push({ edgeNode, heartbeats: count });
    const edgeSignal = edgeSignals.get(edgeNode);
    if (edgeSignal) signals.push(edgeSignal);
  }
  if (heartbeats > throughEdges) reportedVia.unshift({ edgeNode: null, heartbeats: heartbeats - throughEdges });
  const active = activeDays >= policy.minActiveDays;
  // A duplicated serial excludes only where it is not held (earliest registration or a reviewer's assignment).
  const bySignal = signals.some(
    (s) => (policy.excludingSignals as string[]).includes(s.code) && !(s.code === 'DUPLICATE_SERIAL' && evidence.duplicate?.countedHere),
  );
  const excluded = (input.reviews ?? NO_REVIEWS).exclusions.get(device.id) ?? null;
  return {
    id: device.id,
    serial: device.serial,
    active,
    counted: active && !bySignal && excluded === null,
    excluded,
    activeDays,
    onlineMinutes,
    heartbeats,
    firstSeen: firstSeen === null ? null : toShanghaiIso(firstSeen),
    lastSeen: lastSeen === null ? null : toShanghaiIso(lastSeen),
    sources: evidence.sources,
    reportedVia,
    dailyMinutes,
    signals,
  };
}

/** EDGE_FABRICATION per edge node that reported for the contract's devices in the window. */
function edgeNodeSignals(input: VerificationInput): { signals: Map<string, Signal>; reports: EdgeNodeReport[] } {
  const children = new Map<string, number>();
  for (const device of input.devices) {
    for (const edgeNode of input.reportsVia?.get(device.id)?.keys() ?? []) children.set(edgeNode, (children.get(edgeNode) ?? 0) + 1);
  }
  const signals = new Map<string, Signal>();
  const reports: EdgeNodeReport[] = [];
  for (const [edgeNode, count] of [...children].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const counters = input.edgeNodes?.get(edgeNode) ?? { withMetrics: 0, clonedMetrics: 0, deviceLifecycle: 0, ownLifecycle: 0 };
    const facts = { ...counters, children: count };
    reports.push(edgeNodeReport(edgeNode, facts, input.policy));
    const signal = edgeFabricationSignal(edgeNode, facts, input.policy);
    if (signal) signals.set(edgeNode, signal);
  }
  return { signals, reports };
}

/**
 * Online minutes of the day containing `at`, counting only minutes up to and including the
 * minute of `at` (SPEC: activity up to the verification time). That needs the day's minute map,
 * which the service asks the store for (`minuteMapsFrom`); at the day's last minute the whole
 * day counts.
 */
function onlineMinutesUpTo(row: DeviceDayActivity, minuteOfAt: number): number {
  if (minuteOfAt >= MINUTES_PER_DAY - 1) return row.onlineMinutes;
  if (row.minuteMap === undefined) throw new Error(`activity of ${row.deviceId} on ${row.day} has no minute map to count up to the verification time`);
  return countMinutesUpTo(row.minuteMap, minuteOfAt);
}
