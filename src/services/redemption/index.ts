/** The money path's use-cases (SPEC rules 11–14): each a named function of its own file. */
export { acknowledgeSignal } from './acknowledge-signal.js';
export { adjustSupplierQuota } from './adjust-supplier-quota.js';
export { decideApplication } from './decide-application.js';
export type { RedemptionDeps } from './deps.js';
export { drawSpotCheck } from './draw-spot-check.js';
export { recordSpotCheckOutcome } from './record-spot-check-outcome.js';
export { redeemContract } from './redeem-contract.js';
export { assignSerial, excludeDevice, includeDevice } from './review-devices.js';
export { settleBatch } from './settle-batch.js';
export { submitApplication } from './submit-application.js';
export { withdrawApplication } from './withdraw-application.js';
