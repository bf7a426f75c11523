import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { openDatabase, type SqliteDb } from '../../../src/db/sqlite.js';
import type { Heartbeat } from '../../../src/telemetry/types.js';

/** A heartbeat with sensible defaults; override what the test is about. */
export function buildHeartbeat(overrides: Partial<Heartbeat> = {}): Heartbeat {
  return {
    deviceId: 'dev-1',
    contractId: 'contract-1',
    supplierId: 'supplier-1',
    seq: 1,
    receivedAt: Date.parse('2020-10-09T02:00:00Z'), // 10:00 Shanghai
    source: '10.0.0.1',
    coincident: false,
    ...overrides,
  };
}

/** A real SQLite file (WAL, synchronous=FULL) in a temp directory; closed and removed when the test finishes. */
export function useTempDatabase(): { db: SqliteDb; file: string; reopen: () => SqliteDb } {
  const dir = mkdtempSync(join(tmpdir(), 'telemetry-test-'));
  const file = join(dir, 'gateway.db');
  const opened: SqliteDb[] = [];
  const open = (): SqliteDb => {
    const db = openDatabase(file);
    opened.push(db);
    return db;
  };
  onTestFinished(() => {
    for (const db of opened) if (db.open) db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { db: open(), file, reopen: open };
}
