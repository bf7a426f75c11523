import type { Registry } from '../registry/index.js';
import { summarizeConnections, type EdgeEvidence, type EvidenceStore, type TelemetryStore } from '../telemetry/index.js';
import { shanghaiDayStart } from '../time/shanghai.js';
import {
  resolvePolicy,
  verifyContract,
  type ActivityPolicy,
  type ConnectionFacts,
  type EdgeFacts,
  type ContractReviews,
  type DuplicateSerialFacts,
  type PolicyOverride,
  type VerificationContract,
  type VerificationDevice,
  type VerificationReport,
  verificationWindow,
} from '../verifier/index.js';
import type { DriftSums, LifecycleEvent } from '../verifier/fleet-signals.js';
import { monotonicMs } from '../clock.js';

/** Registry and evidence facts the verification needs, as plain lookups (wired in src/gateway.ts). */
export interface VerificationSources {
  contract(id: string): Promise<VerificationContract | undefined>;
  devices(contractId: string): Promise<VerificationDevice[]>;
  /** For each given serial registered under other contracts too: whether it counts here (never which contracts). */
  duplicates(contractId: string, serials: string[]): Promise<Map<string, DuplicateSerialFacts>>;
  /** Reviewer decisions on the contract's evidence (SPEC rule 14). */
  reviews(contractId: string, serials: string[]): Promise<ContractReviews>;
  /**
   * Connection evidence of the window, from one read of its events: per device its take-overs
   * and sources, and the events themselves for ONE_LIFE (absent: no lifecycle evidence).
   */
  connections(deviceIds: string[], fromMs: number, toMs: number): Promise<{ facts: Map<string, ConnectionFacts>; lifecycle?: LifecycleEvent[] }>;
  /** Repeated or backward sequence numbers per device over the days. */
  replays(deviceIds: string[], fromDay: string, toDay: string): Promise<Map<string, number>>;
  /** Heartbeats per device per edge node, and what those edge nodes did (issue 20). */
  reportsVia?(deviceIds: string[], fromDay: string, toDay: string): Promise<Map<string, Map<string, number>>>;
  edgeNodes?(edgeNodeIds: string[], fromDay: string, toDay: string): Promise<Map<string, Omit<EdgeFacts, 'children'>>>;
  /** Clock-drift sums per device and day (SHARED_CLOCK). */
  clockDays?(deviceIds: string[], fromDay: string, toDay: string): Promise<Map<string, DriftSums[]>>;
}

/**
 * Gathers a contract's facts from the registry, the telemetry store and the ingest evidence,
 * then hands them to the pure verifier. The only I/O around `verifyContract`.
 */
export function createVerificationService(deps: {
  sources: VerificationSources;
  store: TelemetryStore;
  defaultPolicy: ActivityPolicy;
  observe?: (seconds: number) => void;
}) {
  const { sources, store, defaultPolicy } = deps;

  async function verify(contractId: string, at: number, override: PolicyOverride = {}): Promise<VerificationReport | undefined> {
    const started = monotonicMs();
    const contract = await sources.contract(contractId);
    if (!contract) return undefined;
    const policy = resolvePolicy(defaultPolicy, override);
    const devices = await sources.devices(contractId);
    const ids = devices.map((d) => d.id);
    const serials = devices.map((d) => d.serial);
    const { firstDay: fromDay, lastDay: toDay } = verificationWindow(at, policy.windowDays);
    // Closed days come as counts; only the day containing `at` needs its minute map (verify.ts).
    const activity = ids.length ? await store.dailyActivity(ids, fromDay, toDay, { minuteMapsFrom: toDay }) : [];
    const reportsVia = (await sources.reportsVia?.(ids, fromDay, toDay)) ?? new Map<string, Map<string, number>>();
    const edgeNodeIds = [...new Set([...reportsVia.values()].flatMap((byNode) => [...byNode.keys()]))];
    // Independent reads, concurrently: on PostgreSQL each is a round trip.
    const [duplicates, reviews, connections, replaysByDevice, clockDays] = await Promise.all([
      sources.duplicates(contractId, serials),
      sources.reviews(contractId, serials),
      sources.connections(ids, shanghaiDayStart(fromDay), at),
      sources.replays(ids, fromDay, toDay),
      sources.clockDays?.(ids, fromDay, toDay),
    ]);
    const report = verifyContract({
      reportsVia,
      edgeNodes: (await sources.edgeNodes?.(edgeNodeIds, fromDay, toDay)) ?? new Map(),
      contract,
      devices,
      duplicates,
      reviews,
      activity,
      connections: connections.facts,
      replaysByDevice,
      ...(clockDays ? { clockDays } : {}),
      ...(connections.lifecycle ? { lifecycle: connections.lifecycle } : {}),
      policy,
      defaultPolicy,
      at,
    });
    deps.observe?.((monotonicMs() - started) / 1000);
    return report;
  }

  return { verify, defaultPolicy };
}

export type VerificationService = ReturnType<typeof createVerificationService>;

/** The sources as the gateway wires them: the registry for facts, the evidence store for ingest evidence. */
export function registryVerificationSources(registry: Registry, evidence: EvidenceStore, edgeEvidence?: EdgeEvidence): VerificationSources {
  return {
    ...(edgeEvidence && {
      reportsVia: (ids: string[], fromDay: string, toDay: string) => edgeEvidence.reportsVia(ids, fromDay, toDay),
      async edgeNodes(edgeNodeIds: string[], fromDay: string, toDay: string) {
        const facts = new Map<string, Omit<EdgeFacts, 'children'>>();
        for (const [id, c] of await edgeEvidence.edgeCounters(edgeNodeIds, fromDay, toDay)) {
          facts.set(id, {
            withMetrics: c['with-metrics'],
            clonedMetrics: c['cloned-metrics'],
            deviceLifecycle: c['device-lifecycle'],
            ownLifecycle: c['own-lifecycle'],
          });
        }
        return facts;
      },
    }),
    contract: (id) => registry.contracts.get(id),
    devices: (contractId) => registry.devices.serialsByContract(contractId),
    duplicates: (contractId, serials) => registry.reviews.serialHolds(contractId, serials),
    reviews: async (contractId, serials) => ({
      exclusions: await registry.reviews.exclusionsOf(contractId),
      serialAssignments: await registry.reviews.assignmentsSeenFrom(contractId, serials),
    }),
    async connections(ids, fromMs, toMs) {
      const events = await evidence.connections(ids, fromMs, toMs);
      const facts = new Map(
        summarizeConnections(ids, events).map((s) => [s.deviceId, { connects: s.connects, takeovers: s.takeovers, sources: s.distinctSources }]),
      );
      return { facts, lifecycle: events };
    },
    clockDays: (ids, fromDay, toDay) => evidence.clockDays(ids, fromDay, toDay),
    async replays(ids, fromDay, toDay) {
      const counts = new Map<string, number>();
      for (const r of await evidence.rejections(ids, fromDay, toDay)) {
        if (r.reason === 'seq-replay' || r.reason === 'duplicate-seq') counts.set(r.deviceId, (counts.get(r.deviceId) ?? 0) + r.count);
      }
      return counts;
    },
  };
}
