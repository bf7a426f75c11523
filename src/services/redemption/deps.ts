import type { Clock } from '../../clock.js';
import type { Registry } from '../../registry/index.js';
import type { VerificationService } from '../verification.js';

/** What the money-path use-cases need, wired once in src/gateway.ts (the API deps carry it). */
export interface RedemptionDeps {
  clock: Clock;
  registry: Registry;
  verification: VerificationService;
}
