import type { Migration } from '../db/sqlite.js';

/**
 * The first redemption table (registry migration 2): one row per decision of the route that
 * decided at once. Kept as history; redemption applications (applications.ts, migration 3)
 * replaced it and nothing writes here any more.
 */
export const redemptionsMigration: Migration = {
  version: 2,
  description: 'redemption decisions',
  up: `
    CREATE TABLE redemptions (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      contract_id TEXT NOT NULL REFERENCES contracts (id),
      at INTEGER NOT NULL,
      decided_at INTEGER NOT NULL,
      decision TEXT NOT NULL CHECK (decision IN ('approved', 'rejected')),
      voucher_fen INTEGER NOT NULL,
      required_devices INTEGER,
      active_devices INTEGER,
      report_digest TEXT NOT NULL,
      actor TEXT NOT NULL,
      reasons TEXT NOT NULL
    );
    CREATE INDEX redemptions_contract ON redemptions (contract_id, id);
  `,
};
