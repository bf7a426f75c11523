export { activityPolicySchema, DEFAULT_ACTIVITY_POLICY, resolvePolicy } from './policy.js';
export type { ActivityPolicy, PolicyOverride } from './policy.js';
export { signalCodeSchema } from './signal-codes.js';
export { FRAUD_SIGNAL_CODES, SIGNAL_CODES } from './signal-codes.js';
export { edgeFabricationSignal, edgeNodeReport, type EdgeFacts } from './edge-signals.js';
export { verifyContract } from './verify.js';
export type {
  ConnectionFacts,
  VerificationContract,
  VerificationDevice,
  VerificationInput,
  VerificationReport,
} from './verify.js';
export { canonicalJson, verifyDigest } from './digest.js';
export { verificationWindow } from './window.js';
