import { AppError } from '../errors.js';
import type { Principal } from '../registry/index.js';
import type { PolicyOverride, VerificationReport } from '../verifier/index.js';

/**
 * Who may verify under another policy than the program's (issue 15 point 2). A relaxed policy
 * (`windowDays=1&minActiveDays=1&minOnlineMinutes=1`) makes almost any contract "pass"; that
 * what-if is a reviewer's tool. A supplier sees its contracts under the program's policy only
 * (at any `at`), so nothing it can download looks like a pass it did not earn.
 */
export const POLICY_OVERRIDE_ROLES = ['admin', 'reviewer'] as const;

export function assertMayOverride(principal: Principal, override: PolicyOverride): void {
  const asked = Object.entries(override).filter(([, v]) => v !== undefined).map(([k]) => k);
  if (asked.length === 0 || (POLICY_OVERRIDE_ROLES as readonly string[]).includes(principal.role)) return;
  throw new AppError(
    'GW_ERR_VERIFICATION_POLICY_OVERRIDE',
    `role ${principal.role} may not override the verification policy (${asked.join(', ')}); only ${POLICY_OVERRIDE_ROLES.join(' and ')} keys may`,
  );
}

/** CSV footer rows stating the policy the report used, each overridden value with its default. */
export function policyRows(report: VerificationReport): unknown[][] {
  const { policy } = report;
  const byParameter = new Map(policy.overrides.map((o) => [o.parameter, o]));
  const value = (parameter: 'windowDays' | 'minActiveDays' | 'minOnlineMinutes') => {
    const o = byParameter.get(parameter);
    return o ? `${String(o.used)} (default ${String(o.default)})` : policy[parameter];
  };
  return [
    ['#policy', policy.overridden ? "OVERRIDDEN (what-if; not the program's verdict)" : 'program default'],
    ['#policy.windowDays', value('windowDays')],
    ['#policy.minActiveDays', value('minActiveDays')],
    ['#policy.minOnlineMinutes', value('minOnlineMinutes')],
    ...policy.overrides
      .filter((o) => !['windowDays', 'minActiveDays', 'minOnlineMinutes'].includes(o.parameter))
      .map((o) => [`#policy.${o.parameter}`, `${JSON.stringify(o.used)} (default ${JSON.stringify(o.default)})`]),
  ];
}

/** A first line before the header when the policy was overridden: the first thing any reader sees. */
export function whatIfBanner(report: VerificationReport): unknown[][] {
  if (!report.policy.overridden) return [];
  const changes = report.policy.overrides.map((o) => `${o.parameter}=${JSON.stringify(o.used)} (default ${JSON.stringify(o.default)})`).join('; ');
  return [[`#WHAT-IF: policy overridden (${changes}); not the program's verdict`]];
}
