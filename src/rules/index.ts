/**
 * Public surface of the rules domain (pure: program data in, decisions with clause citations
 * and explanation trees out). Other domains import only from here.
 */
export { evaluate } from './evaluate.js';
export { allocate } from './allocate.js';
export { redeem } from './redeem.js';
export { resolveCity, requiredDevices, getCatalogItem } from './lookup.js';
export { validateAgainstProgram } from './validate-request.js';

export {
  programs,
  getProgram,
  programYears,
  loadProgram,
  safeLoadProgram,
  ProgramDataError,
  program2020Data,
} from './programs/index.js';

export { programSchema } from './program-schema.js';
export type {
  Program,
  ProgramData,
} from './program-schema.js';

export {
  evaluateRequestSchema,
  allocateRequestSchema,
  evaluationSchema,
  allocationSchema,
  redemptionSchema,
  redemptionEvidenceSchema,
  redemptionCheckSchema,
  reasonSchema,
} from './schemas.js';
export type {
  EnterpriseInput,
  ApplicationInput,
  AllocationApplication,
  QuotasInput,
  RedemptionVoucher,
  RedemptionEvidence,
} from './schemas.js';

export { applyRate, ceilDiv, atLeastPercent, formatYuan } from './money.js';
