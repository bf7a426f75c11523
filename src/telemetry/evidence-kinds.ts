import { z } from 'zod';

/** Connection events kept as evidence: the one list; type, zod enum and SQL CHECK come from it. */
export const CONNECTION_KINDS = ['connect', 'disconnect', 'takeover', 'auth-failed'] as const;
export type ConnectionKind = (typeof CONNECTION_KINDS)[number];
export const connectionKindSchema = z.enum(CONNECTION_KINDS);

/** Why a heartbeat was refused; each is counted per device-day (evidence) and in /metrics. */
export const REJECTION_REASONS = [
  'payload-too-large',
  'invalid-json',
  'invalid-payload',
  'rate-limited',
  'duplicate-seq',
  'seq-replay',
  'store-unavailable',
  // An edge node's messages (src/edge): counted against the device, or the edge node when no bound device is named.
  'invalid-sparkplug',
  'sparkplug-seq-gap',
  'sparkplug-node-not-born',
  'sparkplug-device-not-born',
  'sparkplug-stale-ndeath',
  'unbound-device',
  'device-disabled',
  // Sent on a connection whose session a later CONNECT of the device replaced, on another node (issue 17).
  'stale-session',
] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

/**
 * Counted per device-day beside the rejections, though not a heartbeat's: failed CONNECTs of a
 * device beyond the `auth-failed` rows stored per minute (broker/flood-control.ts).
 */
const CONNECTION_COUNTER_REASONS = ['auth-failed-unrecorded'] as const;
export type CountedReason = RejectionReason | (typeof CONNECTION_COUNTER_REASONS)[number];
