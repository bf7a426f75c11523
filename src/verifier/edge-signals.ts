import type { ActivityPolicy } from './policy.js';
import type { Signal } from './signals.js';

/**
 * What one edge node did over the window (src/telemetry/edge-evidence.ts counters), and how
 * many of the contract's devices it reported for.
 */
export interface EdgeFacts {
  children: number;
  withMetrics: number;
  clonedMetrics: number;
  deviceLifecycle: number;
  ownLifecycle: number;
}

/**
 * EDGE_FABRICATION (issue 20): an edge node inventing devices. One connection reporting for many
 * devices is normal for an edge gateway, so arrival timing (LOCKSTEP) says nothing about its
 * children; what its children *say* and *do* does:
 *
 * - cloned metrics: real machines behind one gateway differ in at least one reading; a node
 *   whose children keep sending exactly the readings a sibling just sent is copying one machine;
 * - no lifecycle of their own: real machines are switched off and on by themselves (DDEATH,
 *   DBIRTH while the node lives); invented ones appear and vanish only with the node. Judged
 *   only once the node has been born again (its children's births and deaths are at least
 *   twice their number), so a gateway that never restarted is not accused for being steady.
 *
 * Pure: facts and policy in, a signal (for each device the node reported for) or nothing out.
 */
/** What a report says about one edge node: its facts, the shares the signal judges, and whether it fired. */
export interface EdgeNodeReport extends EdgeFacts {
  id: string;
  /** Readings copying a sibling's, percent of comparable readings (null: fewer than the policy's minimum). */
  clonedPercent: number | null;
  /** Device births and deaths of the devices' own, percent (null: the node has not been born again yet). */
  ownLifecyclePercent: number | null;
  fabrication: boolean;
}

export function edgeNodeReport(edgeNodeId: string, facts: EdgeFacts, policy: ActivityPolicy): EdgeNodeReport {
  return {
    id: edgeNodeId,
    ...facts,
    clonedPercent: facts.withMetrics >= policy.edgeClonedMinMessages ? Math.floor((facts.clonedMetrics * 100) / facts.withMetrics) : null,
    ownLifecyclePercent: facts.deviceLifecycle >= 2 * facts.children ? Math.floor((facts.ownLifecycle * 100) / facts.deviceLifecycle) : null,
    fabrication: edgeFabricationSignal(edgeNodeId, facts, policy) !== undefined,
  };
}

export function edgeFabricationSignal(edgeNodeId: string, facts: EdgeFacts, policy: ActivityPolicy): Signal | undefined {
  if (facts.children < policy.edgeMinChildren) return undefined;
  const reasons: string[] = [];
  const data: Signal['data'] = { edgeNode: edgeNodeId, children: facts.children, thresholdChildren: policy.edgeMinChildren };
  if (facts.withMetrics >= policy.edgeClonedMinMessages) {
    const clonedPercent = Math.floor((facts.clonedMetrics * 100) / facts.withMetrics);
    data.clonedPercent = clonedPercent;
    data.thresholdClonedPercent = policy.edgeClonedMinPercent;
    if (clonedPercent >= policy.edgeClonedMinPercent) reasons.push(`${clonedPercent}% of its devices' readings copied a sibling's`);
  }
  if (facts.deviceLifecycle >= 2 * facts.children) {
    const ownPercent = Math.floor((facts.ownLifecycle * 100) / facts.deviceLifecycle);
    data.ownLifecyclePercent = ownPercent;
    data.thresholdOwnLifecyclePercent = policy.edgeOwnLifecycleMaxPercent;
    if (ownPercent < policy.edgeOwnLifecycleMaxPercent) {
      reasons.push(`only ${ownPercent}% of ${facts.deviceLifecycle} device births and deaths were the devices' own, the rest came with the node's`);
    }
  }
  if (reasons.length === 0) return undefined;
  return {
    code: 'EDGE_FABRICATION',
    severity: 'high',
    message: `edge node ${edgeNodeId} reporting for ${facts.children} devices looks like it invents them: ${reasons.join('; ')}`,
    data,
  };
}
