import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * `npm run demo -- --exit` as CI runs it: a child process from an empty temporary data dir to
 * printed verifications and redemption decisions. The expectations follow from
 * simulators/scenarios/demo.yaml and the notice: #5 passes (67 required, 70 honest devices),
 * #24 is short (67 required, 50 devices), #25's dishonest fleet is flagged.
 */
const ROOT = join(import.meta.dirname, '../..');

function runDemo(): Promise<{ code: number | null; stdout: string; stderr: string; seconds: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '-s', 'demo', '--', '--exit'], {
      cwd: ROOT,
      // Free ports, so the test never collides with a gateway on 8080/1883.
      env: { ...process.env, GATEWAY_HTTP_PORT: '0', GATEWAY_MQTT_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr, seconds: (Date.now() - started) / 1000 }));
  });
}

describe('npm run demo -- --exit', () => {
  it('verifies and redeems the three contracts as the notice says, then exits', async () => {
    const { code, stdout, stderr, seconds } = await runDemo();
    expect(code, stderr).toBe(0);

    // 附件 #5: 150,000 yuan × 70% capped at 100,000 → ceil(100,000 / 1,500) = 67; all 70 honest devices active.
    expect(stdout).toContain('verification #5 passes: required 67 registered 70 active 70 passed yes signals none');
    // 附件 #24: 100,000 yuan voucher → 67 required; 50 honest devices are not enough.
    expect(stdout).toContain('verification #24 short: required 67 registered 50 active 50 passed no signals none');
    // 附件 #25: 28,000 yuan at 800 per device → 35 required; 20 in lock-step, 10 replaying, 10 cloned
    // serials (flagged on both contracts; the later registration is the one left out of the count).
    expect(stdout).toContain(
      'verification #25 dishonest: required 35 registered 40 active 30 passed no signals DUPLICATE_SERIAL 10, LOCKSTEP 20, SEQ_REPLAY 10',
    );
    // The honest supplier whose serials were cloned keeps its devices: the earlier registration counts (README "Policy").
    expect(stdout).toMatch(/verification #25 clone source: required 9 registered 10 active 10 passed yes signals DUPLICATE_SERIAL 10/);

    expect(stdout).toContain('redemption #5 passes: approved payable ¥100,000 of ¥100,000');
    expect(stdout).toContain('redemption #24 short: rejected payable ¥0 of ¥100,000 (INSUFFICIENT_ACTIVE_DEVICES)');
    expect(stdout).toContain('redemption #25 dishonest: rejected payable ¥0 of ¥28,000 (INSUFFICIENT_ACTIVE_DEVICES)');
    expect(stdout).toContain('redemption #25 clone source: approved payable ¥7,000 of ¥7,000');
    // The contract whose 10 machines report through one Sparkplug B edge gateway: all counted, paid.
    expect(stdout).toContain('verification #5 edge gateway: required 10 registered 10 active 10 passed yes signals none');
    expect(stdout).toContain('redemption #5 edge gateway: approved payable ¥14,000 of ¥14,000');
    // The passing applications are settled in one batch, in the notice's order (application time, then id).
    expect(stdout).toMatch(/settlement batch 1: 3 applications, ¥121,000 \(#5 passes, #25 clone source, #5 edge gateway\)/);

    expect(stdout).toMatch(/web page: http:\/\/127\.0\.0\.1:\d+\/ {2}admin key: \S+/);
    expect(seconds).toBeLessThan(120);
  });
});
