import { describe, expect, it } from 'vitest';
import { DEFAULT_ACTIVITY_POLICY, edgeFabricationSignal, edgeNodeReport } from '../../../src/verifier/index.js';

const facts = (overrides: Partial<Parameters<typeof edgeFabricationSignal>[1]> = {}) => ({
  children: 8,
  withMetrics: 1000,
  clonedMetrics: 0,
  deviceLifecycle: 100,
  ownLifecycle: 100,
  ...overrides,
});

describe('EDGE_FABRICATION', () => {
  it('stays quiet for children with readings and births and deaths of their own', () => {
    expect(edgeFabricationSignal('edg_x', facts(), DEFAULT_ACTIVITY_POLICY)).toBeUndefined();
  });

  it('fires when most readings copy a sibling', () => {
    const signal = edgeFabricationSignal('edg_x', facts({ clonedMetrics: 875 }), DEFAULT_ACTIVITY_POLICY);
    expect(signal).toMatchObject({ code: 'EDGE_FABRICATION', severity: 'high', data: { clonedPercent: 87, edgeNode: 'edg_x' } });
  });

  it('fires when children appear and vanish only with the node, once it has been born again', () => {
    expect(edgeFabricationSignal('edg_x', facts({ ownLifecycle: 0 }), DEFAULT_ACTIVITY_POLICY)).toMatchObject({ data: { ownLifecyclePercent: 0 } });
    // Born once with a node that never restarted: nothing to judge yet.
    expect(edgeFabricationSignal('edg_x', facts({ deviceLifecycle: 8, ownLifecycle: 0 }), DEFAULT_ACTIVITY_POLICY)).toBeUndefined();
  });

  it('does not judge an edge node with fewer children than the policy asks, or too few readings', () => {
    expect(edgeFabricationSignal('edg_x', facts({ children: 2, clonedMetrics: 1000, ownLifecycle: 0 }), DEFAULT_ACTIVITY_POLICY)).toBeUndefined();
    const report = edgeNodeReport('edg_x', facts({ withMetrics: 10, clonedMetrics: 10, deviceLifecycle: 100 }), DEFAULT_ACTIVITY_POLICY);
    expect(report).toMatchObject({ clonedPercent: null, ownLifecyclePercent: 100, fabrication: false });
  });
});
