import type { Principal } from '../../api/route.js';
import { notFound } from '../../errors.js';
import { canSeeContract, type RedemptionApplication } from '../../registry/index.js';
import type { RedemptionEvidence } from '../../rules/index.js';
import type { RedemptionDeps } from './deps.js';
import { applicationExists, idempotencyKeyReused, isUniqueViolation, notAdmitted } from './errors.js';
import { recommend } from './recommend.js';

export interface SubmitApplicationInput {
  contractId: string;
  evidence: RedemptionEvidence;
  /** `Idempotency-Key` header: the same key from the same API key returns the same application. */
  idempotencyKey?: string | undefined;
}

export interface SubmitApplicationResult {
  application: RedemptionApplication;
  /** True when an earlier request with the same Idempotency-Key created it. */
  replayed: boolean;
}

/**
 * A redemption application (兑现申请) for an admitted contract, dated by the gateway's clock —
 * never by the client (SPEC rule 12). Refused when the voucher is not admitted (rule 11) or
 * the contract already has an open application or a payout; the database's partial unique
 * indexes make that hold under concurrent requests too.
 */
export async function submitApplication(deps: RedemptionDeps, principal: Principal, input: SubmitApplicationInput): Promise<SubmitApplicationResult> {
  const { registry } = deps;
  const contract = await registry.contracts.get(input.contractId);
  if (!contract || !canSeeContract(principal, contract)) throw notFound('contract', input.contractId);

  const replay = async (): Promise<SubmitApplicationResult | undefined> => {
    if (input.idempotencyKey === undefined) return undefined;
    const prior = await registry.applications.byIdempotencyKey(principal.keyId, input.idempotencyKey);
    if (!prior) return undefined;
    if (prior.contractId !== contract.id) throw idempotencyKeyReused(input.idempotencyKey);
    return { application: prior, replayed: true };
  };
  const existing = async () => await registry.applications.payoutOf(contract.id) ?? await registry.applications.openOf(contract.id);

  const replayed = await replay();
  if (replayed) return replayed;
  if (contract.status !== 'admitted') throw notAdmitted(contract);
  const blocking = await existing();
  if (blocking) throw applicationExists(blocking);

  const at = deps.clock.now();
  const { explanation, ...recommendation } = await recommend(deps, contract, input.evidence, at);
  try {
    const application = await registry.applications.insert(
      {
        contractId: contract.id,
        supplierId: contract.supplierId,
        program: contract.program,
        clusterPilot: (await registry.enterprises.get(contract.enterpriseId))?.clusterPilot ?? false,
        submittedAt: at,
        idempotencyKey: input.idempotencyKey ?? null,
        evidence: { ...input.evidence },
        recommendation: { ...recommendation, explanation } as typeof recommendation,
      },
      principal.keyId,
    );
    return { application, replayed: false };
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    // A concurrent request won the race: the same key replays, anything else conflicts.
    const raced = await replay();
    if (raced) return raced;
    const winner = await existing();
    if (winner) throw applicationExists(winner);
    throw err;
  }
}
