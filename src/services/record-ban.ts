import type { AuditLog } from '../registry/index.js';
import type { Logger } from '../log.js';

/**
 * Every ban (MQTT address, flapping device, API key brute force) is a security decision and is
 * recorded in the audit log as `security.ban`; a failure to record it is logged and never
 * allowed to break ingestion or the API.
 */
export function recordBan(deps: { audit: Pick<AuditLog, 'append'>; log: Logger }, reason: string, subject: string, until: number): void {
  deps.audit.append('system', 'security.ban', subject, { reason, until: new Date(until).toISOString() }).catch((err: unknown) => {
    deps.log.error({ err, reason }, 'ban not recorded in the audit log');
  });
}
