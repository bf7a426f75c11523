import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/clock.js';
import { createLockstepTracker } from '../../../src/ingest/lockstep.js';
import { createHeartbeatRateLimit } from '../../../src/ingest/heartbeat-rate.js';
import { createHeartbeatAdmission, type IngestContext } from '../../../src/services/admit-heartbeat.js';
import { createSeqSession } from '../../../src/ingest/session.js';
import { silentLogger } from '../../../src/log.js';
import type { Heartbeat } from '../../../src/telemetry/index.js';

function admissionWithSink() {
  const stored: Heartbeat[] = [];
  const clock = new VirtualClock('2020-10-09T08:00:00+08:00');
  const admission = createHeartbeatAdmission({
    clock,
    rate: createHeartbeatRateLimit({ ratePerMin: 0, burst: 0 }),
    // The sink is the pipeline's output; what it stores is what this test looks at.
    sink: { add: (hb: Heartbeat, done?: (err?: Error) => void) => (stored.push(hb), done?.()) },
    rejections: { countRejection: () => undefined },
    lockstep: createLockstepTracker({ windowMs: 5 }),
    log: silentLogger,
  });
  return { admission, stored, clock };
}

const ctx = (deviceId: string, edgeNodeId?: string): IngestContext => ({
  deviceId,
  contractId: 'ctr_1',
  supplierId: 'sup_1',
  source: '10.0.0.1',
  session: createSeqSession(),
  ...(edgeNodeId ? { edgeNodeId } : {}),
});

describe('heartbeat admission for edge children', () => {
  it("never marks an edge node's children coincident for sharing its connection, and records the node", () => {
    const { admission, stored, clock } = admissionWithSink();
    const edge = ['a', 'b', 'c'].map((d) => ctx(d, 'edg_x'));
    const direct = ['a', 'b', 'c'].map((d) => ctx(`direct-${d}`));
    for (let round = 1; round <= 5; round++) {
      for (const c of [...edge, ...direct]) admission.admitValid(c, { payload: { seq: round }, deviceTs: undefined }, clock.now(), () => undefined);
      clock.advance(60_000);
    }
    const viaEdge = stored.filter((h) => h.via === 'edg_x');
    expect(viaEdge).toHaveLength(15);
    expect(viaEdge.every((h) => !h.coincident)).toBe(true);
    // The same arrival pattern from three direct devices of one source is the lock-step mark.
    expect(stored.filter((h) => h.via === undefined && h.coincident).length).toBeGreaterThan(0);
  });
});
