/**
 * Public surface of the rules domain (pure: program data in, decisions with clause citations
 * and explanation trees out). Other domains import only from here.
 */
export { evaluate, assessEnterprise } from './evaluate.js';
export type { EnterpriseAssessment } from './evaluate.js';
export { allocate } from './allocate.js';
export { redeem } from './redeem.js';
export { resolveCity, requiredDevices, getCatalogItem, groupsOf } from './lookup.js';
export { validateAgainstProgram } from './validate-request.js';
export type { RequestIssue } from './validate-request.js';

export {
  programs,
  getProgram,
  programYears,
  loadProgram,
  safeLoadProgram,
  checkProgramIntegrity,
  ProgramDataError,
  program2020Data,
} from './programs/index.js';
export type { ProgramIssue, LoadResult } from './programs/index.js';

export { programSchema, cited, citationSchema } from './program-schema.js';
export type {
  Program,
  ProgramData,
  CatalogItem,
  City,
  Region,
  SupplierKind,
  ExclusionGroup,
  ProductCondition,
  Cited,
  Effective,
} from './program-schema.js';

export {
  evaluateRequestSchema,
  allocateRequestSchema,
  evaluationSchema,
  allocationSchema,
  redemptionSchema,
  redemptionVoucherSchema,
  redemptionEvidenceSchema,
  enterpriseInputSchema,
  applicationInputSchema,
  allocationApplicationSchema,
  quotasInputSchema,
  reasonSchema,
  explanationSchema,
} from './schemas.js';
export type {
  EvaluateRequest,
  EnterpriseInput,
  ApplicationInput,
  PriorVoucher,
  Evaluation,
  ApplicationResult,
  EnterpriseResult,
  Decision,
  AllocateRequest,
  AllocationApplication,
  QuotasInput,
  Allocation,
  AllocationEntry,
  RedemptionVoucher,
  RedemptionEvidence,
  Redemption,
} from './schemas.js';

export { REASON_CODES, REASON_EFFECTS, CLAUSES } from './reasons.js';
export type { Reason, ReasonCode, ReasonEffect } from './reasons.js';
export type { Explanation, ExplanationParameter } from './explain.js';
export { applyRate, ceilDiv, atLeastPercent, formatYuan } from './money.js';
