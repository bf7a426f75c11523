/** test/integration/redemption/money-path.test.ts again, with the registry, ledger, evidence and telemetry in PostgreSQL. */
import { useDatabase } from '../../support/gateway.js';

useDatabase('postgres');
await import('../redemption/money-path.test.js');
