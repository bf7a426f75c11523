export { activityPolicySchema, DEFAULT_ACTIVITY_POLICY, policyOverrideSchema, resolvePolicy } from './policy.js';
export type { ActivityPolicy, PolicyOverride } from './policy.js';
export { deviceSignals } from './signals.js';
export type { Signal, SignalCode, DeviceEvidence } from './signals.js';
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
