/** test/integration/verifier/verification.test.ts again, with the registry, ledger, evidence and telemetry in PostgreSQL. */
import { useDatabase } from '../../support/gateway.js';

useDatabase('postgres');
await import('../verifier/verification.test.js');
