import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { connectDevice, heartbeat } from '../support/mqtt-devices.js';
import { seedContract, type SeededContract } from '../support/seed.js';

let gw: TestGateway;
let contract: SeededContract;

beforeAll(async () => {
  gw = await startTestGateway();
  contract = await seedContract(gw, { devices: 2, catalogId: 25, contractAmountFen: 200_000 });
  const client = await connectDevice(gw.mqttPort, contract.devices[0]!);
  await heartbeat(client, contract.devices[0]!.id, { seq: 1 });
  await client.endAsync();
});
afterAll(async () => gw?.close());

async function cli(args: string[]) {
  const lines: string[] = [];
  const code = await run(args, (s) => lines.push(s));
  return { code, output: lines.join('\n') };
}

describe('gateway verify (CLI)', () => {
  it('prints the verification as a table', async () => {
    const { code, output } = await cli(['verify', '--contract', contract.contractId, '--url', gw.httpUrl, '--key', gw.adminKey]);
    expect(code).toBe(0);
    // 2,000 yuan × 70% = 1,400 yuan for #25 at 800 yuan per device → 2 devices required
    expect(output).toMatch(/required 2 {2}active 0 {2}registered 2 {2}→ NOT PASSED/);
    expect(output).toContain(contract.devices[0]!.serial);
    expect(output).toMatch(/digest sha256:[0-9a-f]{64}/);
  });

  it('prints JSON with --json and the what-if policy', async () => {
    const { output } = await cli(['verify', '--contract', contract.contractId, '--json', '--window-days', '1', '--min-active-days', '1', '--min-online-minutes', '1', '--url', gw.httpUrl, '--key', gw.adminKey]);
    const report = JSON.parse(output);
    expect(report.policy).toMatchObject({ windowDays: 1, minActiveDays: 1, minOnlineMinutes: 1 });
    expect(report.activeDevices).toBe(1);
  });

  it('reports a missing contract and a bad key with a non-zero exit', async () => {
    expect((await cli(['verify', '--contract', 'ctr_nope', '--url', gw.httpUrl, '--key', gw.adminKey])).code).toBe(1);
    const bad = await cli(['verify', '--contract', contract.contractId, '--url', gw.httpUrl, '--key', 'wrong']);
    expect(bad).toMatchObject({ code: 1, output: expect.stringContaining('401') });
    expect((await cli(['verify'])).code).toBe(2);
  });
});
