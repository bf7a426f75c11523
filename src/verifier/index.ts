export { DEFAULT_ACTIVITY_POLICY, reportPolicySchema, resolvePolicy } from './policy.js';
export type { ActivityPolicy, PolicyOverride } from './policy.js';
export { FRAUD_SIGNAL_CODES, SIGNAL_CODES, signalCodeSchema, SIGNALS_NEEDING_ACKNOWLEDGEMENT, type FraudSignalCode } from './signal-codes.js';
export { edgeFabricationSignal, edgeNodeReport, type EdgeFacts } from './edge-signals.js';
export type { DuplicateSerialFacts } from './signals.js';
export { verifyContract } from './verify.js';
export type {
  ContractReviews,
  ConnectionFacts,
  VerificationContract,
  VerificationDevice,
  VerificationInput,
  VerificationReport,
} from './verify.js';
export { canonicalJson, verifyDigest } from './digest.js';
export { verificationWindow } from './window.js';
