/**
 * Reviewer decisions on the evidence (SPEC rule 14) with real devices over MQTT: a serial
 * registered by a second supplier does not take the first one's device out of its count, no
 * report names another supplier's contract, a reviewer assigns the serial, excludes and
 * re-includes a device, and acknowledges a fraud signal before approving — each audited and
 * visible in later reports under their digest.
 */
import type mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/clock.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { connectDevice, heartbeat } from '../../support/mqtt-devices.js';
import { seedContract, type SeededContract } from '../../support/seed.js';

const START = Date.parse('2020-10-10T00:00:00+08:00');
const DAYS = 21;
const DAY = 86_400_000;
const AT = START + (DAYS - 1) * DAY + 20 * 3600_000;

let gw: TestGateway;
let clock: VirtualClock;
let a: SeededContract;
let b: SeededContract;
const keys: Record<'reviewer' | 'supplierA' | 'supplierB', string> = { reviewer: '', supplierA: '', supplierB: '' };
const clients: mqtt.MqttClient[] = [];

const evidence = {
  invoiceNumber: 'INV-B',
  invoiceAmountFen: 100_000,
  invoiceDate: '2020-07-01',
  paymentProofAmountFen: 100_000,
  paymentDate: '2020-07-02',
  paidAmountFen: 100_000,
  acceptanceReport: true,
  contractSignedAt: '2020-06-01',
};

beforeAll(async () => {
  clock = new VirtualClock(START);
  gw = await startTestGateway({ clock, env: { GATEWAY_COMMIT_INTERVAL_MS: '0' } });
  // #25 at 1,000 yuan × 70% = 700 yuan → ⌈700 ÷ 800⌉ = 1 device required (附件 说明2).
  a = await seedContract(gw, { devices: 2, catalogId: 25, contractAmountFen: 100_000, supplierName: '甲平台', serials: ['SHARED-1', 'A-2'] });
  // Supplier B registers A's serial later, plus a device whose clock is ten minutes off.
  b = await seedContract(gw, { devices: 2, catalogId: 25, contractAmountFen: 100_000, supplierName: '乙平台', serials: ['SHARED-1', 'B-2'] });
  keys.reviewer = (await gw.json('/v1/api-keys', { body: { role: 'reviewer' } })).key;
  keys.supplierA = (await gw.json('/v1/api-keys', { body: { role: 'supplier', supplierId: a.supplierId } })).key;
  keys.supplierB = (await gw.json('/v1/api-keys', { body: { role: 'supplier', supplierId: b.supplierId } })).key;

  const devices = [...a.devices, ...b.devices];
  // Each device from its own address and second, so nothing looks like lock-step.
  for (const [i, d] of devices.entries()) clients.push(await connectDevice(gw.mqttPort, d, { localAddress: `127.0.0.${i + 2}` }));
  const seq = devices.map(() => 0);
  for (let day = 0; day < DAYS; day++) {
    for (let minute = 8 * 60; minute < 9 * 60 + 1; minute++) {
      for (const [i, d] of devices.entries()) {
        const now = START + day * DAY + minute * 60_000 + (i + 1) * 7_000;
        clock.set(now);
        const skewed = d.serial === 'B-2';
        await heartbeat(clients[i]!, d.id, { seq: ++seq[i]!, ts: new Date(now + (skewed ? 600_000 : 0)).toISOString() });
      }
    }
  }
  await gw.gateway.flush();
  clock.set(AT);
}, 300_000);
afterAll(async () => {
  for (const c of clients) c.end(true);
  await gw.close();
});

const report = (contractId: string, key: string) => gw.json(`/v1/contracts/${contractId}/verification`, { key });
const device = (r: any, serial: string) => r.devices.find((d: { serial: string }) => d.serial === serial);

describe('a serial registered by another supplier', () => {
  it('leaves the earlier registration counted and names no other contract in either report', async () => {
    const ra = await report(a.contractId, keys.supplierA);
    const rb = await report(b.contractId, keys.supplierB);
    expect(device(ra, 'SHARED-1')).toMatchObject({ active: true, counted: true });
    expect(device(ra, 'SHARED-1').signals[0]).toMatchObject({ code: 'DUPLICATE_SERIAL', data: { countedHere: 'yes', basis: 'earliest-registration', registrations: 2 } });
    expect(device(rb, 'SHARED-1')).toMatchObject({ active: true, counted: false });
    expect(device(rb, 'SHARED-1').signals[0]).toMatchObject({ code: 'DUPLICATE_SERIAL', data: { countedHere: 'no' } });
    expect(JSON.stringify(ra)).not.toContain(b.contractId);
    expect(JSON.stringify(rb)).not.toContain(a.contractId);
    // The CSV export and the reviewers' duplicate list: the CSV is the supplier's too, the list is staff-only.
    const csv = await (await gw.api(`/v1/contracts/${b.contractId}/verification`, { key: keys.supplierB, headers: { accept: 'text/csv' } })).text();
    expect(csv).not.toContain(a.contractId);
    expect((await gw.api('/v1/duplicate-serials', { key: keys.supplierB })).status).toBe(403);
    const duplicates = await gw.json('/v1/duplicate-serials', { key: keys.reviewer });
    expect(duplicates.items).toEqual([
      expect.objectContaining({ serial: 'SHARED-1', assignment: null, registrations: [expect.objectContaining({ contractId: a.contractId }), expect.objectContaining({ contractId: b.contractId })] }),
    ]);
  });

  it("a reviewer's assignment moves the count, is audited under both contracts and sits in later reports", async () => {
    const before = await report(a.contractId, keys.reviewer);
    const assigned = await gw.json('/v1/duplicate-serials/SHARED-1/assignment', {
      method: 'PUT',
      key: keys.reviewer,
      body: { contractId: b.contractId, reason: 'site visit: the machine stands at the enterprise of contract B' },
    });
    expect(assigned.assignment).toMatchObject({ contractId: b.contractId, reason: expect.stringContaining('site visit') });
    const ra = await report(a.contractId, keys.supplierA);
    const rb = await report(b.contractId, keys.supplierB);
    expect(device(ra, 'SHARED-1')).toMatchObject({ counted: false });
    expect(device(rb, 'SHARED-1')).toMatchObject({ counted: true });
    expect(ra.reviews.serialAssignments).toEqual([expect.objectContaining({ serial: 'SHARED-1', assignedHere: false, reason: expect.stringContaining('site visit') })]);
    expect(rb.reviews.serialAssignments).toEqual([expect.objectContaining({ serial: 'SHARED-1', assignedHere: true })]);
    expect(ra.digest).not.toBe(before.digest);
    expect(JSON.stringify(ra)).not.toContain(b.contractId);
    for (const c of [a, b]) {
      const audit = await gw.json(`/v1/audit?subject=${c.contractId}&action=review.serial.assign`);
      expect(audit.items).toHaveLength(1);
    }
  });
});

describe('excluding a device', () => {
  it('needs a reason, leaves the device out of the count, and re-including counts it again', async () => {
    const a2 = a.devices.find((d) => d.serial === 'A-2')!;
    const blank = await gw.api(`/v1/devices/${a2.id}/exclusion`, { key: keys.reviewer, body: { reason: '  ' } });
    expect(blank.status).toBe(400);
    expect((await gw.api(`/v1/devices/${a2.id}/exclusion`, { key: keys.supplierA, body: { reason: 'mine' } })).status).toBe(403);

    const plain = await report(a.contractId, keys.reviewer);
    expect(device(plain, 'A-2')).toMatchObject({ counted: true, excluded: null });
    await gw.json(`/v1/devices/${a2.id}/exclusion`, { key: keys.reviewer, body: { reason: 'photo shows the device in a warehouse' } });
    const excluded = await report(a.contractId, keys.supplierA);
    expect(device(excluded, 'A-2')).toMatchObject({ active: true, counted: false, excluded: { reason: 'photo shows the device in a warehouse' } });
    expect(excluded.activeDevices).toBe(plain.activeDevices - 1);
    expect(excluded.reviews.exclusions).toEqual([expect.objectContaining({ deviceId: a2.id })]);
    expect(excluded.digest).not.toBe(plain.digest);

    expect((await gw.api(`/v1/devices/${a2.id}/inclusion`, { key: keys.reviewer, body: { reason: 'installed on site after all' } })).status).toBe(204);
    expect(device(await report(a.contractId, keys.reviewer), 'A-2')).toMatchObject({ counted: true, excluded: null });
    const actions = (await gw.json(`/v1/audit?subject=${a.contractId}`)).items.map((e: { action: string }) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['review.device.exclude', 'review.device.include']));
  });
});

describe('fraud signals before approval', () => {
  it('refuses to approve until each signal kind on counted devices is acknowledged', async () => {
    const rb = await report(b.contractId, keys.reviewer);
    expect(device(rb, 'B-2')).toMatchObject({ counted: true });
    expect(device(rb, 'B-2').signals.map((s: { code: string }) => s.code)).toContain('CLOCK_SKEW');

    const res = await gw.api(`/v1/contracts/${b.contractId}/redemption-applications`, { key: keys.supplierB, body: evidence });
    expect(res.status).toBe(201);
    const application = await res.json();
    expect(application.recommendation).toMatchObject({ decision: 'approved', signalKinds: ['CLOCK_SKEW'] });

    const refused = await gw.api(`/v1/redemption-applications/${application.id}/decision`, { key: keys.reviewer, body: { decision: 'approved' } });
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({ code: 'GW_ERR_REDEMPTION_SIGNALS_UNACKNOWLEDGED', signals: ['CLOCK_SKEW'] });
    expect((await gw.api(`/v1/redemption-applications/${application.id}/acknowledgements`, { key: keys.reviewer, body: { signal: 'NEVER_SEEN', note: 'x' } })).status).toBe(400);

    await gw.json(`/v1/redemption-applications/${application.id}/acknowledgements`, {
      key: keys.reviewer,
      body: { signal: 'CLOCK_SKEW', note: 'the edge box has no NTP; receive times are what count' },
    });
    const approved = await gw.json(`/v1/redemption-applications/${application.id}/decision`, { key: keys.reviewer, body: { decision: 'approved' } });
    expect(approved).toMatchObject({ state: 'approved', acknowledgements: [expect.objectContaining({ signal: 'CLOCK_SKEW' })] });
    const decide = (await gw.json(`/v1/audit?subject=${b.contractId}&action=redemption.decide`)).items[0];
    expect(decide.details).toMatchObject({ decision: 'approved', acknowledgedSignals: ['CLOCK_SKEW'] });

    // The supplier sees its own applications and their states, the other supplier none of them.
    expect((await gw.json('/v1/redemption-applications', { key: keys.supplierB })).items.map((x: { id: number }) => x.id)).toEqual([application.id]);
    expect((await gw.json('/v1/redemption-applications', { key: keys.supplierA })).items).toEqual([]);
    expect((await gw.api(`/v1/redemption-applications/${application.id}`, { key: keys.supplierA })).status).toBe(404);
  });
});
