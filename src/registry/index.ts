/**
 * The registry: suppliers, enterprises, contracts (with their voucher evaluation and quota
 * allocation), devices and their token digests, API keys, and the append-only audit log — in
 * the gateway's SQLite file. Other components import only this module.
 */
import type { Clock } from '../clock.js';
import type { SqlDb } from '../db/sql-db.js';
import type { Logger } from '../log.js';
import { createApiKeys, type ApiKeys } from './api-keys.js';
import { createClusterNodes, type ClusterNodes } from './cluster-nodes.js';
import { createDeviceBans, type DeviceBans } from './device-bans.js';
import { createAuditLog, type AuditLog } from './audit.js';
import { createContracts, type Contracts } from './contracts.js';
import { createDeviceSessions, type DeviceSessions } from './device-sessions.js';
import type { RegistryContext } from './context.js';
import { createDevices, type Devices } from './devices.js';
import { createEdgeNodes, type EdgeNodes } from './edge-nodes.js';
import { createEnterprises, type Enterprises } from './enterprises.js';
import { createQuotas, type Quotas } from './quotas.js';
import { createApplications, type Applications } from './applications.js';
import { createReviews, type Reviews } from './reviews.js';
import { createSettlements, type Settlements } from './settlements.js';
import { createSpotChecks, type SpotChecks } from './spot-checks.js';
import { registryMigrations } from './schema.js';
import { createSuppliers, type Suppliers } from './suppliers.js';
import { createSignedRecords, type Signer } from '../trust/index.js';
import { createRulesVoucherEngine, type VoucherEngine } from './vouchers.js';

/** Every operation answers a promise: the registry lives in SQLite or in PostgreSQL (`GATEWAY_DATABASE_URL`). */
export interface Registry {
  suppliers: Suppliers;
  enterprises: Enterprises;
  contracts: Contracts;
  devices: Devices;
  edgeNodes: EdgeNodes;
  apiKeys: ApiKeys;
  quotas: Quotas;
  reviews: Reviews;
  applications: Applications;
  settlements: Settlements;
  spotChecks: SpotChecks;
  audit: Pick<AuditLog, 'page'>;
  clusterNodes: ClusterNodes;
  /** Which node holds each device's MQTT session (issue 17; used with PostgreSQL only). */
  deviceSessions: DeviceSessions;
  deviceBans: DeviceBans;
}

export interface RegistryOptions {
  /** The registry's database (src/db/sql-db.ts); the caller owns (and closes) it. */
  sql: SqlDb;
  clock: Clock;
  log: Logger;
  /** Defaults to the src/rules engine; tests may pass another. */
  engine?: VoucherEngine;
  /** Signs each redemption decision (stored in signed_records); without it decisions are stored unsigned. */
  signer?: Signer;
}

/** Runs the registry's migrations and returns the facade. */
export async function createRegistry(options: RegistryOptions): Promise<Registry> {
  await options.sql.migrate('registry', registryMigrations, options.clock);
  const log = options.log.child({ component: 'registry' });
  const audit = createAuditLog(options.sql, options.clock);
  const ctx: RegistryContext = {
    sql: options.sql,
    clock: options.clock,
    log,
    audit,
    engine: options.engine ?? createRulesVoucherEngine(),
    ...(options.signer ? { signer: options.signer } : {}),
    signedRecords: createSignedRecords(options.sql, options.clock),
  };
  const contracts = createContracts(ctx);
  const suppliers = createSuppliers(ctx, contracts.reallocate);
  return {
    suppliers,
    enterprises: createEnterprises(ctx),
    contracts,
    devices: createDevices(ctx),
    edgeNodes: createEdgeNodes(ctx),
    apiKeys: createApiKeys(ctx),
    quotas: createQuotas(ctx, contracts.reallocate),
    reviews: createReviews(ctx),
    applications: createApplications(ctx),
    settlements: createSettlements(ctx),
    spotChecks: createSpotChecks(ctx, suppliers.setQuota),
    audit: { page: audit.page },
    clusterNodes: createClusterNodes(ctx),
    deviceSessions: createDeviceSessions(ctx),
    deviceBans: createDeviceBans(ctx),
  };
}

export { canSeeContract, canSeeDevice, canSeeSupplier, supplierScope } from './access.js';
export { creditCodeCheckChar } from './credit-code.js';
export { DEVICE_ID_RE, EDGE_NODE_ID_RE } from './ids.js';
export { registryMigrations } from './schema.js';
/** The registry's request and response schemas (zod), for the routes and the OpenAPI document. */
export * as registrySchemas from './schemas.js';
export { ROLES, type Principal, type Role } from './roles.js';
export type { ApiKeys } from './api-keys.js';

export { createAuditLog } from './audit.js';
export type { AuditLog } from './audit.js';
export type { Contract, ContractInput, Contracts } from './contracts.js';
export type { Actor } from './context.js';
export { REVOKED_HOLDER, SESSION_TAKEOVER_CHANNEL, type ClaimRequest, type DeviceSessions, type SessionClaim, type TakeoverNotice } from './device-sessions.js';
export { judgeDeviceToken } from './devices.js';
export type { Device, DeviceAuthInfo, Devices, IssuedDevice } from './devices.js';
export type { EnterpriseInput, Enterprises } from './enterprises.js';
export type { Quotas } from './quotas.js';
export type { Suppliers } from './suppliers.js';
export type { VoucherEngine } from './vouchers.js';
export type { EdgeBoundDevice, EdgeNode, EdgeNodes } from './edge-nodes.js';
export type { ClusterNodes } from './cluster-nodes.js';
export type { DeviceBans } from './device-bans.js';
/** The edge node routes' request and response schemas (zod). */
export * as edgeSchemas from './edge-schemas.js';
export { APPLICATION_STATES } from './applications.js';
export { drawSample } from './spot-checks.js';
export type { Recommendation, RedemptionApplication, SignalAcknowledgement } from './applications.js';
export type { SettlementBatch, SettlementLine } from './settlements.js';
export { SPOT_CHECK_OUTCOMES } from './spot-checks.js';
export type { QuotaAdjustment, SpotCheck, SpotCheckOutcome } from './spot-checks.js';
export type { DuplicateSerial, ReviewNote, Reviews } from './reviews.js';
