import type { Principal } from '../../api/route.js';
import { notFound } from '../../errors.js';
import type { SignalAcknowledgement } from '../../registry/index.js';
import { SIGNALS_NEEDING_ACKNOWLEDGEMENT, type FraudSignalCode } from '../../verifier/index.js';
import type { RedemptionDeps } from './deps.js';
import { notSubmitted, reasonRequired, signalNotPresent } from './errors.js';

/**
 * A reviewer acknowledges one fraud signal kind (LOCKSTEP, SEQ_REPLAY, …) on an application's
 * counted devices, with a note saying why it does not block payment (SPEC rule 14); audited.
 */
export async function acknowledgeSignal(deps: RedemptionDeps, principal: Principal, input: { applicationId: number; signal: string; note: string }): Promise<SignalAcknowledgement> {
  const application = await deps.registry.applications.get(input.applicationId);
  if (!application) throw notFound('redemption application', input.applicationId);
  if (application.state !== 'submitted') throw notSubmitted(application);
  const note = input.note.trim();
  if (!note) throw reasonRequired();
  // Any fraud kind may be acknowledged: the decision recomputes which ones the counted devices carry.
  if (!SIGNALS_NEEDING_ACKNOWLEDGEMENT.includes(input.signal as FraudSignalCode)) throw signalNotPresent(input.signal);
  return await deps.registry.applications.acknowledge(application.id, input.signal, note, principal.keyId);
}
