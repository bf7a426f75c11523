import type mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/clock.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { connectDevice, heartbeat } from '../../support/mqtt-devices.js';
import { seedContract, type SeededContract } from '../../support/seed.js';

/**
 * 20 devices over mqtt.js, driven by a virtual clock across 30 days: a heartbeat every minute
 * during an 8-hour shift (08:00–16:00 Shanghai); devices 0–5 are off at weekends, devices 18
 * and 19 die after day 4. The expected report is computed here from the schedule alone.
 */
const START = Date.parse('2020-11-01T00:00:00+08:00'); // a Sunday
const DAYS = 30;
const DAY = 86_400_000;
const AT = START + (DAYS - 1) * DAY + 20 * 3600_000; // day 30, 20:00

const weekendOff = (i: number) => i < 6;
const diesAfterDay = (i: number) => (i >= 18 ? 4 : Infinity);
const isWeekend = (day: number) => [0, 6].includes(new Date(START + day * DAY + 8 * 3600_000).getUTCDay());
const onDuty = (i: number, day: number) => day < diesAfterDay(i) && !(weekendOff(i) && isWeekend(day));

let gw: TestGateway;
let contract: SeededContract;

beforeAll(async () => {
  const clock = new VirtualClock(START);
  gw = await startTestGateway({ clock, env: { GATEWAY_COMMIT_INTERVAL_MS: '0' } });
  // 30,000 yuan voucher for #5 → ceil(30000 / 1500) = 20 devices required.
  contract = await seedContract(gw, { devices: 20, catalogId: 5, contractAmountFen: 4_285_715 });
  const clients: mqtt.MqttClient[] = await Promise.all(contract.devices.map((d) => connectDevice(gw.mqttPort, d)));
  const seq = new Array<number>(20).fill(0);
  for (let day = 0; day < DAYS; day++) {
    const active = contract.devices.map((_, i) => i).filter((i) => onDuty(i, day));
    if (!active.length) continue;
    for (let minute = 8 * 60; minute < 16 * 60; minute++) {
      // One virtual instant per minute for the whole fleet keeps the run short; it looks like
      // lock-step to the fingerprinting (test/integration/verifier/signals.test.ts covers that).
      clock.set(START + day * DAY + minute * 60_000 + 7_000);
      await Promise.all(active.map((i) => heartbeat(clients[i]!, contract.devices[i]!.id, { seq: ++seq[i]! })));
    }
  }
  await Promise.all(clients.map((c) => c.endAsync()));
}, 240_000);
afterAll(async () => gw?.close());

describe('verification of a 30-day fleet driven over MQTT', () => {
  it('counts what the schedule implies, device by device', async () => {
    expect(contract.requiredDevices).toBe(20);
    const report = await gw.json(`/v1/contracts/${contract.contractId}/verification?at=${encodeURIComponent(new Date(AT).toISOString())}`);
    const expected = contract.devices.map((d, i) => {
      const days = Array.from({ length: DAYS }, (_, day) => day).filter((day) => onDuty(i, day));
      return { id: d.id, activeDays: days.length, onlineMinutes: days.length * 480, heartbeats: days.length * 480, active: days.length >= 20 };
    });
    const byId = new Map(report.devices.map((d: { id: string }) => [d.id, d]));
    for (const e of expected) expect(byId.get(e.id), e.id).toMatchObject(e);
    const expectedActive = expected.filter((e) => e.active).length;
    expect(report).toMatchObject({ requiredDevices: 20, registeredDevices: 20, activeDevices: expectedActive, passed: expectedActive >= 20 });
    // Weekday-only devices had 21 weekdays in November 2020: still active. The two dead ones are not.
    expect(expectedActive).toBe(18);
    const dead = report.devices.filter((d: { signals: { code: string }[] }) => d.signals.some((s) => s.code === 'SILENT'));
    expect(dead.map((d: { id: string }) => d.id).sort()).toEqual([contract.devices[18]!.id, contract.devices[19]!.id].sort());
  });

  it('answers "online at all today" with windowDays=1&minActiveDays=1&minOnlineMinutes=1', async () => {
    const at = encodeURIComponent(new Date(AT).toISOString());
    const report = await gw.json(`/v1/contracts/${contract.contractId}/verification?at=${at}&windowDays=1&minActiveDays=1&minOnlineMinutes=1`);
    const lastDay = DAYS - 1;
    const onToday = contract.devices.filter((_, i) => onDuty(i, lastDay)).length;
    expect(report.policy).toMatchObject({ windowDays: 1, minActiveDays: 1, minOnlineMinutes: 1 });
    expect(report.activeDevices).toBe(onToday);
  });

  it('exports the same report as CSV with the digest', async () => {
    const at = encodeURIComponent(new Date(AT).toISOString());
    const json = await gw.json(`/v1/contracts/${contract.contractId}/verification?at=${at}`);
    const res = await gw.api(`/v1/contracts/${contract.contractId}/verification?at=${at}`, { headers: { accept: 'text/csv' } });
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const csv = await res.text();
    const lines = csv.trim().split('\r\n');
    expect(lines).toHaveLength(1 + 20 + 4 + 5); // header, devices, the policy (4 rows), the verdict
    expect(csv).toContain(`#digest,${json.digest}`);
    expect(res.headers.get('x-report-digest')).toBe(json.digest);
  });

  it('records a redemption decision with the report digest in the audit log', async () => {
    // The application time is the gateway's clock (SPEC rule 12), standing at AT.
    (gw.clock as VirtualClock).set(AT);
    const decision = await gw.json(`/v1/contracts/${contract.contractId}/redemption`, {
      body: { invoiceAmountFen: 3_000_000, paidAmountFen: 4_285_715, acceptanceReport: true },
    });
    expect(decision).toMatchObject({ decision: 'rejected', requiredDevices: 20 });
    expect(decision.reasons.map((r: { code: string }) => r.code)).toContain('INSUFFICIENT_ACTIVE_DEVICES');
    const audit = await gw.json(`/v1/audit?subject=${contract.contractId}`);
    const entry = audit.items.find((e: { action: string }) => e.action === 'redemption.decide');
    expect(entry).toMatchObject({ actor: expect.any(String), details: { decision: 'rejected', reportDigest: decision.reportDigest } });
  });
});
