import type { VerificationReport } from '../verifier/index.js';

/** A verification report as a readable plain-text table. */
export function formatVerification(report: VerificationReport): string {
  const verdict = report.passed === null ? 'no device threshold' : report.passed ? 'PASSED' : 'NOT PASSED';
  const header = [
    `contract ${report.contractId}  (catalog #${report.catalogId}, voucher ¥${(report.voucherFen / 100).toFixed(2)})`,
    `at ${report.at}, window ${report.window.from} … ${report.window.to}`,
    `policy: ${report.policy.minActiveDays} of ${report.policy.windowDays} days with ≥ ${report.policy.minOnlineMinutes} online minutes`,
    `required ${report.requiredDevices ?? '—'}  active ${report.activeDevices}  registered ${report.registeredDevices}  → ${verdict}`,
    '',
  ];
  const columns = ['device', 'serial', 'counted', 'active days', 'minutes', 'heartbeats', 'last seen', 'signals'];
  const rows = report.devices.map((d) => [
    d.id,
    d.serial,
    d.counted ? 'yes' : 'no',
    String(d.activeDays),
    String(d.onlineMinutes),
    String(d.heartbeats),
    d.lastSeen ?? '—',
    d.signals.map((s) => s.code).join(',') || '—',
  ]);
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [...header, line(columns), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), '', `digest ${report.digest}`].join('\n');
}
