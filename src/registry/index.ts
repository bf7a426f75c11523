/**
 * The registry: suppliers, enterprises, contracts (with their voucher evaluation and quota
 * allocation), devices and their token digests, API keys, and the append-only audit log — in
 * the gateway's SQLite file. Other components import only this module.
 */
import type { Clock } from '../clock.js';
import { migrate, type SqliteDb } from '../db/sqlite.js';
import type { Logger } from '../log.js';
import { createApiKeys, type ApiKeys } from './api-keys.js';
import { createAuditLog, type AuditLog } from './audit.js';
import { createContracts, type Contracts } from './contracts.js';
import type { RegistryContext } from './context.js';
import { createDevices, type Devices } from './devices.js';
import { createEnterprises, type Enterprises } from './enterprises.js';
import { createQuotas, type Quotas } from './quotas.js';
import { createRedemptions, type Redemptions } from './redemptions.js';
import { registryMigrations } from './schema.js';
import { createSuppliers, type Suppliers } from './suppliers.js';
import { createRulesVoucherEngine, type VoucherEngine } from './vouchers.js';

export interface Registry {
  suppliers: Suppliers;
  enterprises: Enterprises;
  contracts: Contracts;
  devices: Devices;
  apiKeys: ApiKeys;
  quotas: Quotas;
  redemptions: Redemptions;
  audit: Pick<AuditLog, 'page'>;
}

export interface RegistryOptions {
  db: SqliteDb;
  clock: Clock;
  log: Logger;
  /** Defaults to the src/rules engine; tests may pass another. */
  engine?: VoucherEngine;
}

/** Runs the registry's migrations on `db` and returns the facade. The caller owns (and closes) `db`. */
export function createRegistry(options: RegistryOptions): Registry {
  migrate(options.db, 'registry', registryMigrations);
  const log = options.log.child({ component: 'registry' });
  const audit = createAuditLog(options.db, options.clock);
  const ctx: RegistryContext = {
    db: options.db,
    clock: options.clock,
    log,
    audit,
    engine: options.engine ?? createRulesVoucherEngine(),
  };
  const contracts = createContracts(ctx);
  return {
    suppliers: createSuppliers(ctx, contracts.reallocate),
    enterprises: createEnterprises(ctx),
    contracts,
    devices: createDevices(ctx),
    apiKeys: createApiKeys(ctx),
    quotas: createQuotas(ctx, contracts.reallocate),
    redemptions: createRedemptions(ctx),
    audit: { page: audit.page },
  };
}

export { canSeeContract, canSeeDevice, canSeeSupplier, supplierScope } from './access.js';
export { creditCodeCheckChar, creditCodeProblem, isValidCreditCode } from './credit-code.js';
export { DEVICE_ID_RE } from './ids.js';
export { MAX_DEVICES_PER_REQUEST } from './devices.js';
export { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from './pagination.js';
export { registryMigrations } from './schema.js';
export { ROLES, roleSchema, type Principal, type Role } from './roles.js';
export type { ApiKeyInfo, ApiKeyInput, ApiKeys, IssuedApiKey } from './api-keys.js';
export { createAuditLog } from './audit.js';
export type { AuditEntry, AuditFilter, AuditLog } from './audit.js';
export type { Contract, ContractFilter, ContractInput, ContractStatus, Contracts } from './contracts.js';
export type { Actor } from './context.js';
export type { Device, DeviceAuthInfo, DeviceInput, Devices, IssuedDevice, TokenVerdict } from './devices.js';
export type { CityRef, Enterprise, EnterpriseInput, Enterprises, PriorVoucher } from './enterprises.js';
export type { Page, PageRequest } from './pagination.js';
export type { ProgramQuotas, Quotas } from './quotas.js';
export type { RedemptionInput, RedemptionRecord, Redemptions } from './redemptions.js';
export type { Supplier, SupplierInput, SupplierKind, Suppliers } from './suppliers.js';
export type { AllocationOutcome, ContractEvaluation, Decision, Reason, VoucherEngine } from './vouchers.js';
