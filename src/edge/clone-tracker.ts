/**
 * Ingest-time fingerprint of one edge node's children (issue 20 "an edge node that fabricates
 * devices"): a child whose metrics are exactly the metrics a sibling sent a moment before is
 * most likely the same reading sent twice under two device ids. Real machines behind one
 * gateway differ in at least one reading (temperatures, counters, currents).
 *
 * Only informative vectors are compared — three or more metrics, or a value that is not an
 * integer — because two idle machines may both honestly report `{"running": 0}`.
 */
export const CLONE_WINDOW_MS = 120_000;
const MAX_TRACKED = 4096;

export interface CloneTracker {
  /** Records a child's metrics; says whether they are comparable and whether a sibling sent the same. */
  observe(deviceId: string, metrics: Readonly<Record<string, number>> | undefined, at: number): 'uninformative' | 'own' | 'cloned';
}

export function createCloneTracker(): CloneTracker {
  /** fingerprint → the latest child that sent it and when (Map order = insertion order, for eviction). */
  const seen = new Map<string, { deviceId: string; at: number }>();
  return {
    observe(deviceId, metrics, at) {
      if (!metrics) return 'uninformative';
      const names = Object.keys(metrics);
      const values = names.map((n) => metrics[n]!);
      if (names.length < 3 && values.every(Number.isInteger)) return 'uninformative';
      names.sort();
      let fingerprint = '';
      for (const name of names) fingerprint += `${name}=${metrics[name]}\u0000`;
      const previous = seen.get(fingerprint);
      const cloned = previous !== undefined && previous.deviceId !== deviceId && at - previous.at <= CLONE_WINDOW_MS;
      seen.delete(fingerprint);
      seen.set(fingerprint, { deviceId, at });
      if (seen.size > MAX_TRACKED) seen.delete(seen.keys().next().value!);
      return cloned ? 'cloned' : 'own';
    },
  };
}
