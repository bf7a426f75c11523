/**
 * The edge rows of `npm run detection` (issue 20): honest and dishonest edge gateway fleets
 * (simulators/edge/edge-fleets.ts) on their own gateway and virtual clock, 30 days, verified
 * with the default policy; per fleet the same outcome as the device fleets', and per edge node
 * the shares the EDGE_FABRICATION signal judges.
 */
import { monotonicMs } from '../../src/clock.js';
import { startInProcessGateway } from '../in-process.js';
import { formatTable, verifyContract } from '../run.js';
import type { EdgeProfile } from './edge-fleets.js';
import { edgeOutcomes, playEdgeFleets, provisionEdgeContract, type EdgeFleetOutcome } from './edge-run.js';

export const EDGE_DETECTION_FLEETS: ReadonlyArray<{ profile: EdgeProfile; children: number }> = [
  { profile: 'edge-shifts', children: 8 },
  { profile: 'edge-always-on', children: 8 },
  { profile: 'edge-cloner', children: 8 },
  { profile: 'edge-inventor', children: 8 },
];

export async function runEdgeDetection(options: { seed: number; days?: number; start?: string }): Promise<{ outcomes: EdgeFleetOutcome[]; lines: string[] }> {
  const days = options.days ?? 30;
  const gw = await startInProcessGateway({ start: Date.parse(options.start ?? '2020-11-01T00:00:00+08:00'), thread: 'main' });
  try {
    const supplier = await gw.api.json<{ id: string }>('/v1/suppliers', { body: { name: '边缘网关供应商', kind: 'other' } });
    const provisioned = await provisionEdgeContract(gw, { supplierId: supplier.id, fleets: EDGE_DETECTION_FLEETS, label: 'EDGE', creditSeed: options.seed });
    const started = monotonicMs();
    const run = await playEdgeFleets(gw, provisioned, { days, seed: options.seed });
    const seconds = (monotonicMs() - started) / 1000;
    const outcomes = await edgeOutcomes(gw, run);
    const report = await verifyContract(gw.api, run.contractId, run.verifyAt);
    const profileOf = new Map(run.fleets.map((f) => [f.edgeNodeId, f.profile]));
    const table = formatTable(
      ['edge fleet', 'children', 'readings compared', 'copied a sibling', 'births+deaths', "devices' own", 'EDGE_FABRICATION'],
      report.edgeNodes.map((e) => [
        profileOf.get(e.id) ?? e.id,
        e.children,
        e.withMetrics,
        e.clonedPercent === null ? `${e.clonedMetrics} (too few)` : `${e.clonedPercent}%`,
        e.deviceLifecycle,
        e.ownLifecyclePercent === null ? `${e.ownLifecycle} (not judged)` : `${e.ownLifecyclePercent}%`,
        e.fabrication ? 'yes' : 'no',
      ]),
    );
    return {
      outcomes,
      lines: [
        '## Edge gateways (Sparkplug B)',
        '',
        `One contract, four edge nodes of 8 children each, ${days} days of virtual time over real Sparkplug B connections ` +
          `(${run.messages.toLocaleString('en')} messages in ${seconds.toFixed(0)} s); their rows are in the tables above.`,
        '',
        '```',
        table,
        '```',
        '',
        '- edge-shifts: each machine its own hours, births and deaths, readings of its own; the gateway restarts weekly (will NDEATH).',
        '- edge-always-on: machines running around the clock, born with a gateway that never restarts (its lifecycle is not judged).',
        '- edge-cloner: one real machine reported under every child id: identical readings.',
        '- edge-inventor: invented children with readings of their own (noise), born and dead only with the gateway.',
        "- LOCKSTEP is never computed for an edge node's children: they share its connection and publish loop by design.",
        '',
      ],
    };
  } finally {
    await gw.close();
  }
}
