export { activityPolicySchema, DEFAULT_ACTIVITY_POLICY, policyOverrideSchema, resolvePolicy } from './policy.js';
export type { ActivityPolicy, PolicyOverride } from './policy.js';
export { deviceSignals } from './signals.js';
export type { Signal, DeviceEvidence } from './signals.js';
export { FRAUD_SIGNAL_CODES, SIGNAL_CODES, signalCodeSchema, type FraudSignalCode, type SignalCode } from './signal-codes.js';
export { verifyContract } from './verify.js';
export type {
  ConnectionFacts,
  DeviceReport,
  VerificationContract,
  VerificationDevice,
  VerificationInput,
  VerificationReport,
} from './verify.js';
export { canonicalJson, reportDigest, verifyDigest } from './digest.js';
export { verificationWindow } from './window.js';
