/** test/integration/security/api-security.test.ts again, with the registry, ledger, evidence and telemetry in PostgreSQL. */
import { useDatabase } from '../../support/gateway.js';

useDatabase('postgres');
await import('../security/api-security.test.js');
