/** test/integration/redemption/review.test.ts again, with the registry, ledger, evidence and telemetry in PostgreSQL. */
import { useDatabase } from '../../support/gateway.js';

useDatabase('postgres');
await import('../redemption/review.test.js');
