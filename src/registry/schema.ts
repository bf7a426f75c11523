import { clusterNodesMigration } from './cluster-nodes.js';
import { deviceSessionsMigration } from './device-sessions.js';
import { deviceBansMigration } from './device-bans.js';
import { edgeNodesMigration } from './edge-nodes.js';
import { redemptionApplicationsMigration } from './redemption-schema.js';
import { apiKeyExpiryMigration } from './api-keys.js';
import { redemptionsMigration } from './redemptions.js';
import { spotChecksMigration } from './spot-checks.js';
import { sqlList, type Migration } from '../db/sqlite.js';
import { trustMigration } from '../trust/index.js';
import { ROLES } from './roles.js';

/**
 * Registry tables, versioned under the `registry` component (src/db/sqlite.ts `migrate`).
 * Times are epoch milliseconds (INTEGER); money is integer fen; secrets are SHA-256 digests
 * (BLOB, 32 bytes). Never edit a released migration: append a new version.
 */
export const registryMigrations: readonly Migration[] = [
  {
    version: 1,
    description: 'suppliers, enterprises, contracts, city quotas, devices, api keys, append-only audit log',
    up: `
      CREATE TABLE suppliers (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('platform', 'other')),
        quota_fen INTEGER NOT NULL CHECK (quota_fen >= 0),
        created_at INTEGER NOT NULL
      );

      CREATE TABLE enterprises (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        credit_code TEXT NOT NULL UNIQUE,
        city_code TEXT NOT NULL,
        city_name TEXT NOT NULL,
        cluster_pilot INTEGER NOT NULL CHECK (cluster_pilot IN (0, 1)),
        prior_vouchers TEXT NOT NULL DEFAULT '[]',
        created_at INTEGER NOT NULL
      );

      CREATE TABLE contracts (
        id TEXT PRIMARY KEY,
        enterprise_id TEXT NOT NULL REFERENCES enterprises (id),
        supplier_id TEXT NOT NULL REFERENCES suppliers (id),
        program INTEGER NOT NULL,
        catalog_id INTEGER NOT NULL,
        contract_amount_fen INTEGER NOT NULL CHECK (contract_amount_fen >= 0),
        applied_at INTEGER NOT NULL,
        contract_signed_at INTEGER,
        service_providers INTEGER,
        big_data_models INTEGER,
        function_modules INTEGER,
        voucher_fen INTEGER NOT NULL DEFAULT 0,
        required_devices INTEGER,
        decision TEXT NOT NULL DEFAULT 'rejected' CHECK (decision IN ('approved', 'reduced', 'rejected')),
        status TEXT NOT NULL DEFAULT 'waitlisted' CHECK (status IN ('admitted', 'waitlisted', 'rejected')),
        evaluation TEXT NOT NULL DEFAULT '{}',
        allocation TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX contracts_enterprise ON contracts (enterprise_id, program);
      CREATE INDEX contracts_supplier ON contracts (supplier_id);
      CREATE INDEX contracts_program ON contracts (program, status);

      -- A missing row means the program's default for that city (usually unlimited).
      CREATE TABLE program_city_quotas (
        program INTEGER NOT NULL,
        city_code TEXT NOT NULL,
        quota_fen INTEGER CHECK (quota_fen IS NULL OR quota_fen >= 0),
        PRIMARY KEY (program, city_code)
      ) WITHOUT ROWID;

      CREATE TABLE devices (
        id TEXT PRIMARY KEY,
        serial TEXT NOT NULL,
        model TEXT,
        name TEXT,
        contract_id TEXT NOT NULL REFERENCES contracts (id),
        supplier_id TEXT NOT NULL REFERENCES suppliers (id),
        token_sha256 BLOB NOT NULL CHECK (length(token_sha256) = 32),
        enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
        created_at INTEGER NOT NULL,
        -- A supplier may not register one hardware serial twice; across suppliers it is
        -- allowed here and flagged by the verifier (SPEC: duplicate serial across contracts).
        UNIQUE (supplier_id, serial)
      );
      CREATE INDEX devices_contract ON devices (contract_id);
      CREATE INDEX devices_serial ON devices (serial);

      CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        key_sha256 BLOB NOT NULL UNIQUE CHECK (length(key_sha256) = 32),
        role TEXT NOT NULL CHECK (role IN (${sqlList(ROLES)})),
        supplier_id TEXT REFERENCES suppliers (id),
        created_at INTEGER NOT NULL,
        revoked_at INTEGER,
        CHECK ((role = 'supplier') = (supplier_id IS NOT NULL))
      );

      CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        subject TEXT NOT NULL,
        details TEXT NOT NULL DEFAULT '{}'
      );
      CREATE INDEX audit_log_subject ON audit_log (subject, id);
      -- Append-only, enforced by the database itself and not just by the code that uses it.
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
      CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
    `,
  },
  redemptionsMigration,
  redemptionApplicationsMigration,
  spotChecksMigration,
  apiKeyExpiryMigration, // version 5 (issue 15), listed in version order
  trustMigration,
  edgeNodesMigration,
  clusterNodesMigration,
  deviceSessionsMigration, // version 9 (issue 17, one session per device across nodes)
  deviceBansMigration, // version 10 (issue 17, limits across nodes)
];
