import type { Migration } from '../db/sqlite.js';

/**
 * The money path (SPEC rules 11–14): redemption applications with their lifecycle, reviewer
 * decisions on the evidence, and settlement batches. The constraints that keep money from
 * being paid twice live here, in the database, not only in the code that uses it:
 *
 * - at most one open (`submitted`/`approved`) application per contract, and at most one
 *   `approved`/`settled` one ever — partial unique indexes, so two concurrent approvals on two
 *   connections cannot both commit;
 * - only the transitions of the lifecycle (submitted → approved | rejected | withdrawn,
 *   approved → settled) — a trigger;
 * - the payable amount never above the admitted voucher, frozen once decided; nothing deleted;
 * - a settlement batch never above its budget.
 *
 * Times are epoch ms from the gateway's clock; money is integer fen.
 */
export const redemptionApplicationsMigration: Migration = {
  version: 3,
  description: 'redemption applications (lifecycle, one payout per contract), reviewer decisions, settlement batches',
  up: `
    CREATE TABLE settlement_batches (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      created_at INTEGER NOT NULL,
      actor TEXT NOT NULL,
      budget_fen INTEGER CHECK (budget_fen IS NULL OR budget_fen >= 0),
      total_fen INTEGER NOT NULL CHECK (total_fen >= 0 AND (budget_fen IS NULL OR total_fen <= budget_fen)),
      application_count INTEGER NOT NULL CHECK (application_count >= 1),
      csv TEXT NOT NULL
    );
    CREATE TRIGGER settlement_batches_no_update BEFORE UPDATE ON settlement_batches
      BEGIN SELECT RAISE(ABORT, 'settlement batches are final'); END;
    CREATE TRIGGER settlement_batches_no_delete BEFORE DELETE ON settlement_batches
      BEGIN SELECT RAISE(ABORT, 'settlement batches are final'); END;

    CREATE TABLE redemption_applications (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      contract_id TEXT NOT NULL REFERENCES contracts (id),
      supplier_id TEXT NOT NULL REFERENCES suppliers (id),
      program INTEGER NOT NULL,
      -- 37号 §一 集群试点…优先结算: copied at submission, it orders the settlement queue.
      cluster_pilot INTEGER NOT NULL CHECK (cluster_pilot IN (0, 1)),
      state TEXT NOT NULL CHECK (state IN ('submitted', 'approved', 'rejected', 'settled', 'withdrawn')),
      submitted_at INTEGER NOT NULL,
      submitted_by TEXT NOT NULL,
      idempotency_key TEXT CHECK (idempotency_key IS NULL OR length(idempotency_key) BETWEEN 1 AND 200),
      evidence TEXT NOT NULL,
      recommendation TEXT NOT NULL,
      voucher_fen INTEGER NOT NULL CHECK (voucher_fen >= 0),
      payable_fen INTEGER NOT NULL CHECK (payable_fen >= 0 AND payable_fen <= voucher_fen),
      report_digest TEXT NOT NULL,
      decided_at INTEGER,
      decided_by TEXT,
      decision_reason TEXT,
      decision TEXT,
      settled_at INTEGER,
      settlement_batch_id INTEGER REFERENCES settlement_batches (id),
      withdrawn_at INTEGER,
      CHECK ((state IN ('approved', 'rejected', 'settled')) = (decided_at IS NOT NULL AND decided_by IS NOT NULL)),
      CHECK (state <> 'rejected' OR length(trim(coalesce(decision_reason, ''))) > 0),
      CHECK ((state = 'settled') = (settlement_batch_id IS NOT NULL AND settled_at IS NOT NULL)),
      CHECK ((state = 'withdrawn') = (withdrawn_at IS NOT NULL))
    );
    CREATE UNIQUE INDEX redemption_applications_one_open
      ON redemption_applications (contract_id) WHERE state IN ('submitted', 'approved');
    CREATE UNIQUE INDEX redemption_applications_one_payout
      ON redemption_applications (contract_id) WHERE state IN ('approved', 'settled');
    CREATE UNIQUE INDEX redemption_applications_idempotency
      ON redemption_applications (submitted_by, idempotency_key) WHERE idempotency_key IS NOT NULL;
    CREATE INDEX redemption_applications_queue
      ON redemption_applications (state, cluster_pilot DESC, submitted_at, id);
    CREATE INDEX redemption_applications_contract ON redemption_applications (contract_id, id);

    CREATE TRIGGER redemption_applications_transition BEFORE UPDATE OF state ON redemption_applications
      WHEN NOT (OLD.state = NEW.state
        OR (OLD.state = 'submitted' AND NEW.state IN ('approved', 'rejected', 'withdrawn'))
        OR (OLD.state = 'approved' AND NEW.state = 'settled'))
      BEGIN SELECT RAISE(ABORT, 'illegal redemption application transition'); END;
    CREATE TRIGGER redemption_applications_frozen BEFORE UPDATE OF
        contract_id, supplier_id, program, cluster_pilot, submitted_at, submitted_by, idempotency_key,
        evidence, voucher_fen, payable_fen ON redemption_applications
      WHEN OLD.state <> 'submitted'
      BEGIN SELECT RAISE(ABORT, 'a decided redemption application is frozen'); END;
    CREATE TRIGGER redemption_applications_no_delete BEFORE DELETE ON redemption_applications
      BEGIN SELECT RAISE(ABORT, 'redemption applications are never deleted'); END;

    -- Reviewer decisions on the evidence (SPEC rule 14); their history is in the audit log.
    CREATE TABLE device_exclusions (
      device_id TEXT PRIMARY KEY REFERENCES devices (id),
      contract_id TEXT NOT NULL REFERENCES contracts (id),
      reason TEXT NOT NULL CHECK (length(trim(reason)) > 0),
      actor TEXT NOT NULL,
      at INTEGER NOT NULL
    );
    CREATE INDEX device_exclusions_contract ON device_exclusions (contract_id);

    CREATE TABLE serial_assignments (
      serial TEXT PRIMARY KEY,
      contract_id TEXT NOT NULL REFERENCES contracts (id),
      reason TEXT NOT NULL CHECK (length(trim(reason)) > 0),
      actor TEXT NOT NULL,
      at INTEGER NOT NULL
    );

    CREATE TABLE signal_acknowledgements (
      application_id INTEGER NOT NULL REFERENCES redemption_applications (id),
      signal TEXT NOT NULL,
      note TEXT NOT NULL CHECK (length(trim(note)) > 0),
      actor TEXT NOT NULL,
      at INTEGER NOT NULL,
      PRIMARY KEY (application_id, signal)
    ) WITHOUT ROWID;
  `,
};
