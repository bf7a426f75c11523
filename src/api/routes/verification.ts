import { z } from 'zod';
import { boundedInstant } from '../../time/instant.js';
import type { Clock } from '../../clock.js';
import { notFound } from '../../errors.js';
import { canSeeContract } from '../../registry/index.js';
import type { VerificationService } from '../../services/index.js';
import type { Trust } from '../../trust/index.js';
import type { VerificationReport } from '../../verifier/index.js';
import { toCsv } from '../csv.js';
import { assertMayOverride, policyRows, whatIfBanner } from '../report-policy.js';
import { routesWith, type Principal } from '../route.js';
import { verificationReportSchema } from '../schemas/verification.js';

export interface VerificationRouteDeps {
  clock: Clock;
  /** Signs reports for `Accept: application/jose` (src/trust). */
  trust: Pick<Trust, 'log'>;
  verification: VerificationService;
  contractOwner(contractId: string): Promise<{ supplierId: string } | undefined>;
}

export const contractIdParams = z.object({ id: z.string().min(1).max(64) });

const instant = boundedInstant().describe('ISO-8601 with offset, 2000–2099; defaults to now');

export const verificationQuery = z.object({
  at: instant.optional(),
  windowDays: z.coerce.number().int().min(1).max(366).optional(),
  minActiveDays: z.coerce.number().int().min(1).max(366).optional(),
  minOnlineMinutes: z.coerce.number().int().min(1).max(1440).optional(),
});

/** Loads the report of a contract the caller may see (others' contracts are 404, not 403). */
export async function visibleReport(
  deps: Omit<VerificationRouteDeps, 'trust'>,
  principal: Principal | null,
  contractId: string,
  at: number,
  override: z.infer<typeof verificationQuery> = {},
): Promise<VerificationReport> {
  const owner = await deps.contractOwner(contractId);
  if (!owner || !principal || !canSeeContract(principal, owner)) throw notFound('contract', contractId);
  const { at: _at, ...policy } = override;
  assertMayOverride(principal, policy);
  const report = await deps.verification.verify(contractId, at, policy);
  if (!report) throw notFound('contract', contractId);
  return report;
}

const route = routesWith<VerificationRouteDeps>();

export const verificationRoutes = [
  route({
    method: 'get',
    path: '/v1/contracts/{id}/verification',
    summary:
      'Required vs active devices of a contract, per-device evidence, signals and digest (CSV with Accept: text/csv; a compact JWS signed with EdDSA, naming the audit tree head, with Accept: application/jose)',
    tags: ['verification'],
    auth: ['admin', 'reviewer', 'supplier'],
    params: contractIdParams,
    query: verificationQuery,
    responses: {
      200: { description: 'verification report (or its CSV, or its compact JWS as application/jose)', schema: verificationReportSchema },
      404: { description: 'no such contract (or not visible to this key)' },
    },
    async handler({ params, query, principal, deps, req, res }) {
            const at = query.at ? Date.parse(query.at) : deps.clock.now();
      const report = await visibleReport(deps, principal, params.id, at, query);
      const wanted = req.accepts(['application/json', 'text/csv', 'application/jose']);
      if (wanted === 'application/jose') {
        const jws = await deps.trust.log.signReport(report);
        res
          .status(200)
          // attachment() would set the type from the .jws extension (unknown: octet-stream); type after it.
          .attachment(reportFileName(report, 'jws'))
          .type('application/jose')
          .set('X-Report-Digest', report.digest)
          .send(jws);
        return undefined;
      }
      if (wanted === 'text/csv') {
        res
          .status(200)
          .type('text/csv; charset=utf-8')
          .attachment(reportFileName(report, 'csv'))
          .set('X-Report-Digest', report.digest)
          .send(reportCsv(report));
        return undefined;
      }
      return { status: 200, body: report };
    },
  }),
];

/** `verification-<contract>-<first 12 hex of the digest>.<ext>`: a saved file names the report it holds. */
export function reportFileName(report: VerificationReport, ext: 'csv' | 'jws'): string {
  return `verification-${report.contractId}-${report.digest.slice('sha256:'.length, 'sha256:'.length + 12)}.${ext}`;
}

export function reportCsv(report: VerificationReport): string {
  const header = ['contractId', 'deviceId', 'serial', 'active', 'counted', 'activeDays', 'onlineMinutes', 'heartbeats', 'firstSeen', 'lastSeen', 'sources', 'signals', ...report.window.days];
  const rows = report.devices.map((d) => [
    report.contractId,
    d.id,
    d.serial,
    d.active,
    d.counted,
    d.activeDays,
    d.onlineMinutes,
    d.heartbeats,
    d.firstSeen,
    d.lastSeen,
    d.sources,
    d.signals.map((s) => s.code),
    ...d.dailyMinutes,
  ]);
  const footer = [
    ...policyRows(report),
    ['#requiredDevices', report.requiredDevices ?? ''],
    ['#activeDevices', report.activeDevices],
    ['#passed', report.policy.overridden && report.passed !== null ? `${report.passed} under the overridden policy` : (report.passed ?? '')],
    ['#at', report.at],
    ['#digest', report.digest],
  ];
  return toCsv(header, [...rows, ...footer], whatIfBanner(report));
}
