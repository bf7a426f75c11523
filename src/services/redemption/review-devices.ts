import type { Principal } from '../../api/route.js';
import { notFound } from '../../errors.js';
import type { DuplicateSerial, ReviewNote } from '../../registry/index.js';
import type { RedemptionDeps } from './deps.js';

/** A reviewer leaves a device out of its contract's count, with a reason (SPEC rule 14); audited, in every later report. */
export async function excludeDevice(deps: RedemptionDeps, principal: Principal, input: { deviceId: string; reason: string }): Promise<ReviewNote & { deviceId: string; contractId: string }> {
  return await deps.registry.reviews.excludeDevice(input.deviceId, input.reason, principal.keyId);
}

/** Counts an excluded device again, with a reason; audited. */
export async function includeDevice(deps: RedemptionDeps, principal: Principal, input: { deviceId: string; reason: string }): Promise<void> {
  await deps.registry.reviews.includeDevice(input.deviceId, input.reason, principal.keyId);
}

/**
 * Resolves a DUPLICATE_SERIAL: the serial counts for `contractId` only. Until a reviewer
 * decides, the earliest registration holds it, so a later registration by another supplier
 * cannot take an honest device out of its count (README "Policy").
 */
export async function assignSerial(deps: RedemptionDeps, principal: Principal, input: { serial: string; contractId: string; reason: string }): Promise<DuplicateSerial> {
  if (!await deps.registry.contracts.get(input.contractId)) throw notFound('contract', input.contractId);
  return await deps.registry.reviews.assignSerial(input.serial, input.contractId, input.reason, principal.keyId);
}
