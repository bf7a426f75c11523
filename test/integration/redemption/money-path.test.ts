/**
 * The money path through a real gateway (HTTP, SQLite file, virtual clock): admission →
 * redemption application → review → settlement, paid once (SPEC rules 11–13, issue 14).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/clock.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { buildCreditCode } from '../../support/seed.js';

const INSIDE_WINDOW = Date.parse('2020-11-02T10:00:00+08:00');
let gw: TestGateway;
let clock: VirtualClock;
let reviewerKey: string;
let otherReviewerKey: string;

/** Complete paperwork for an amount (SPEC rules 10, 12): dates in order before the application. */
const evidence = (amountFen: number, overrides: Record<string, unknown> = {}) => ({
  invoiceNumber: `INV-${amountFen}`,
  invoiceAmountFen: amountFen,
  invoiceDate: '2020-07-01',
  paymentProofAmountFen: amountFen,
  paymentDate: '2020-07-02',
  paidAmountFen: amountFen,
  acceptanceReport: true,
  acceptanceReportDate: '2020-08-01',
  contractSignedAt: '2020-06-01',
  ...overrides,
});

let appliedMinute = 0;
/** A supplier, an enterprise and a #6 contract (no device threshold): 1,000,000 fen × 70% = 700,000 fen voucher. */
async function contract(options: { clusterPilot?: boolean; supplierId?: string; amountFen?: number } = {}) {
  const supplierId = options.supplierId ?? (await gw.json('/v1/suppliers', { body: { name: '某平台', kind: 'other' } })).id;
  const enterprise = await gw.json('/v1/enterprises', {
    body: { name: '佛山某企业', creditCode: buildCreditCode(), city: '佛山', clusterPilot: options.clusterPilot ?? false },
  });
  // Distinct application times, so the admission order is the creation order.
  const appliedAt = new Date(Date.parse('2020-06-01T10:00:00+08:00') + ++appliedMinute * 60_000).toISOString();
  return gw.json('/v1/contracts', {
    body: { enterpriseId: enterprise.id, supplierId, catalogId: 6, contractAmountFen: options.amountFen ?? 1_000_000, appliedAt, program: 2020 },
  });
}

const submit = (contractId: string, body: unknown, headers: Record<string, string> = {}, key?: string) =>
  gw.api(`/v1/contracts/${contractId}/redemption-applications`, { body, headers, ...(key ? { key } : {}) });
const decide = (id: number, body: unknown, key = reviewerKey) => gw.api(`/v1/redemption-applications/${id}/decision`, { body, key });

beforeAll(async () => {
  clock = new VirtualClock(INSIDE_WINDOW);
  gw = await startTestGateway({ clock });
  reviewerKey = (await gw.json('/v1/api-keys', { body: { role: 'reviewer' } })).key;
  otherReviewerKey = (await gw.json('/v1/api-keys', { body: { role: 'reviewer' } })).key;
});
afterAll(() => gw.close());

describe('only admitted vouchers are paid (SPEC rule 11)', () => {
  it('refuses a waitlisted contract with a reason code and clause, and accepts it once a quota change admits it', async () => {
    const supplier = await gw.json('/v1/suppliers', { body: { name: '配额不足平台', kind: 'other' } });
    await gw.json(`/v1/suppliers/${supplier.id}/quota`, { method: 'PUT', body: { quotaFen: 0 } });
    const c = await contract({ supplierId: supplier.id });
    expect(c.status).toBe('waitlisted');

    for (const res of [await submit(c.id, evidence(1_000_000)), await gw.api(`/v1/contracts/${c.id}/redemption`, { body: evidence(1_000_000) })]) {
      expect(res.status).toBe(409);
      const problem = await res.json();
      expect(problem).toMatchObject({ code: 'GW_ERR_REDEMPTION_NOT_ADMITTED', contractStatus: 'waitlisted', reason: { code: 'VOUCHER_NOT_ADMITTED' } });
      expect(problem.reason.clause).toContain('37号 §一');
    }
    expect((await gw.json(`/v1/redemption-applications?contractId=${c.id}`)).items).toEqual([]);

    await gw.json(`/v1/suppliers/${supplier.id}/quota`, { method: 'PUT', body: { quotaFen: 700_000 } });
    expect((await gw.json(`/v1/contracts/${c.id}`)).status).toBe('admitted');
    const res = await submit(c.id, evidence(1_000_000));
    expect(res.status).toBe(201);
    expect((await res.json()).recommendation).toMatchObject({ decision: 'approved', admitted: true, payableFen: 700_000 });
  });

  it('never approves an application whose contract lost its admission before the decision', async () => {
    const supplier = await gw.json('/v1/suppliers', { body: { name: '配额被调减平台', kind: 'other' } });
    const c = await contract({ supplierId: supplier.id });
    const application = await (await submit(c.id, evidence(1_000_000))).json();
    await gw.json(`/v1/suppliers/${supplier.id}/quota`, { method: 'PUT', body: { quotaFen: 0 } });
    const res = await decide(application.id, { decision: 'approved' });
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ code: 'GW_ERR_REDEMPTION_NOT_ADMITTED' });
    expect((await gw.json(`/v1/redemption-applications/${application.id}`)).state).toBe('submitted');
  });

  it('does not settle an approved application whose contract lost its admission, until it is admitted again', async () => {
    await gw.api('/v1/settlements', { body: {} });
    const supplier = await gw.json('/v1/suppliers', { body: { name: '批准后调减平台', kind: 'other' } });
    const c = await contract({ supplierId: supplier.id });
    const application = await (await submit(c.id, evidence(1_000_000))).json();
    expect((await decide(application.id, { decision: 'approved' })).status).toBe(200);
    await gw.json(`/v1/suppliers/${supplier.id}/quota`, { method: 'PUT', body: { quotaFen: 0 } });
    expect((await gw.json('/v1/settlements/queue')).items).toEqual([]);
    expect((await gw.api('/v1/settlements', { body: {} })).status).toBe(409);
    await gw.json(`/v1/suppliers/${supplier.id}/quota`, { method: 'PUT', body: { quotaFen: 700_000 } });
    const batch = await gw.json('/v1/settlements', { body: {} });
    expect(batch.applicationIds).toEqual([application.id]);
  });
});

describe('one payout per voucher (SPEC rule 12)', () => {
  it('goes submitted → approved → settled, and refuses a second application at every step', async () => {
    const c = await contract();
    const res = await submit(c.id, evidence(1_000_000));
    expect(res.status).toBe(201);
    const application = await res.json();
    expect(application).toMatchObject({ state: 'submitted', contractId: c.id, payableFen: 700_000, decision: null });
    expect(Date.parse(application.submittedAt)).toBe(clock.now());

    const again = await submit(c.id, evidence(1_000_000));
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ code: 'GW_ERR_REDEMPTION_APPLICATION_EXISTS', application: { id: application.id, state: 'submitted' } });

    clock.advance(3_600_000);
    const approved = await (await decide(application.id, { decision: 'approved', reason: 'paperwork complete' })).json();
    expect(approved).toMatchObject({ state: 'approved', payableFen: 700_000, decision: { decision: 'approved', reason: 'paperwork complete' } });
    expect(Date.parse(approved.decision.at)).toBe(clock.now());
    expect((await decide(application.id, { decision: 'rejected', reason: 'changed my mind' })).status).toBe(409);
    expect((await submit(c.id, evidence(1_000_000))).status).toBe(409);

    const batch = await gw.json('/v1/settlements', { body: {} });
    expect(batch.applicationIds).toContain(application.id);
    expect(await gw.json(`/v1/redemption-applications/${application.id}`)).toMatchObject({ state: 'settled', settlement: { batchId: batch.id } });
    const afterSettlement = await submit(c.id, evidence(1_000_000));
    expect(afterSettlement.status).toBe(409);
    expect(await afterSettlement.json()).toMatchObject({ application: { id: application.id, state: 'settled' } });
    expect((await gw.api(`/v1/redemption-applications/${application.id}/withdrawal`, { method: 'POST' })).status).toBe(409);
  });

  it('lets a rejected or withdrawn application be followed by a new one; rejecting needs a reason', async () => {
    const c = await contract();
    const first = await (await submit(c.id, evidence(1_000_000))).json();
    const noReason = await decide(first.id, { decision: 'rejected' });
    expect(noReason.status).toBe(400);
    expect(await noReason.json()).toMatchObject({ code: 'GW_ERR_REVIEW_REASON_REQUIRED' });
    expect(await (await decide(first.id, { decision: 'rejected', reason: 'invoice unreadable' })).json()).toMatchObject({ state: 'rejected', payableFen: 0 });

    const second = await (await submit(c.id, evidence(1_000_000, { invoiceNumber: 'INV-2' }))).json();
    expect(second.id).not.toBe(first.id);
    expect(await gw.json(`/v1/redemption-applications/${second.id}/withdrawal`, { method: 'POST' })).toMatchObject({ state: 'withdrawn' });
    expect((await gw.api(`/v1/redemption-applications/${second.id}/withdrawal`, { method: 'POST' })).status).toBe(409);
    expect((await decide(second.id, { decision: 'approved' })).status).toBe(409);
    expect((await submit(c.id, evidence(1_000_000, { invoiceNumber: 'INV-3' }))).status).toBe(201);

    const audit = await gw.json(`/v1/audit?subject=${c.id}`);
    const actions = audit.items.map((e: { action: string }) => e.action);
    expect(actions.filter((a: string) => a === 'redemption.submit')).toHaveLength(3);
    expect(actions).toEqual(expect.arrayContaining(['redemption.decide', 'redemption.withdraw']));
  });

  it('of two concurrent approvals of one application, exactly one succeeds', async () => {
    const c = await contract();
    const application = await (await submit(c.id, evidence(1_000_000))).json();
    const results = await Promise.all([decide(application.id, { decision: 'approved' }, reviewerKey), decide(application.id, { decision: 'approved' }, otherReviewerKey)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    const decides = (await gw.json(`/v1/audit?subject=${c.id}&action=redemption.decide`)).items;
    expect(decides).toHaveLength(1);
  });

  it('returns the same application for the same Idempotency-Key, also when the retries race', async () => {
    const c = await contract();
    const headers = { 'idempotency-key': `submit-${c.id}` };
    const [a, b] = await Promise.all([submit(c.id, evidence(1_000_000), headers), submit(c.id, evidence(1_000_000), headers)]);
    const first = await a.json();
    const second = await b.json();
    expect([a.status, b.status].sort()).toEqual([200, 201]);
    expect(second.id).toBe(first.id);
    const retry = await submit(c.id, evidence(1_000_000), headers);
    expect(retry.status).toBe(200);
    expect((await retry.json()).id).toBe(first.id);
    expect((await gw.json(`/v1/redemption-applications?contractId=${c.id}`)).items).toHaveLength(1);

    const other = await contract();
    const reused = await submit(other.id, evidence(1_000_000), headers);
    expect(reused.status).toBe(422);
    expect(await reused.json()).toMatchObject({ code: 'GW_ERR_REDEMPTION_IDEMPOTENCY_KEY_REUSED' });
  });

  it('keeps POST /v1/contracts/{id}/redemption: a reviewer submits and decides at once, a repeat is 409, the same key the same record', async () => {
    const c = await contract();
    const legacy = (headers: Record<string, string> = {}) => gw.api(`/v1/contracts/${c.id}/redemption`, { body: evidence(1_000_000), headers, key: reviewerKey });
    const res = await legacy({ 'idempotency-key': 'legacy-1' });
    expect(res.status).toBe(200);
    const decision = await res.json();
    expect(decision).toMatchObject({ decision: 'approved', payableFen: 700_000, whatIf: false, application: { state: 'approved' } });
    expect(decision.checks.every((k: { passed: boolean }) => k.passed)).toBe(true);

    const repeat = await legacy();
    expect(repeat.status).toBe(409);
    expect(await repeat.json()).toMatchObject({ code: 'GW_ERR_REDEMPTION_APPLICATION_EXISTS', application: { id: decision.redemptionId } });
    const replay = await legacy({ 'idempotency-key': 'legacy-1' });
    expect(replay.status).toBe(200);
    expect(await replay.json()).toMatchObject({ redemptionId: decision.redemptionId, decision: 'approved' });
    expect((await gw.json(`/v1/redemption-applications?contractId=${c.id}`)).items).toHaveLength(1);
  });
});

describe("the application time is the gateway's clock (SPEC rule 12)", () => {
  it('treats a client `at` as a what-if that records nothing, and checks the window at the clock', async () => {
    const c = await contract();
    const saved = clock.now();
    clock.set(Date.parse('2026-11-29T10:00:00+08:00'));
    try {
      const whatIf = await gw.json(`/v1/contracts/${c.id}/redemption`, { body: { ...evidence(1_000_000), at: '2021-01-15T10:00:00+08:00' } });
      expect(whatIf).toMatchObject({ whatIf: true, decision: 'approved', redemptionId: null });
      expect((await gw.json(`/v1/redemption-applications?contractId=${c.id}`)).items).toEqual([]);

      const real = await gw.json(`/v1/contracts/${c.id}/redemption`, { body: evidence(1_000_000) });
      expect(real).toMatchObject({ whatIf: false, decision: 'rejected', payableFen: 0, application: { state: 'rejected' } });
      expect(real.reasons.map((r: { code: string }) => r.code)).toContain('OUTSIDE_REDEMPTION_WINDOW');
      expect(Date.parse(real.application.submittedAt)).toBe(clock.now());
    } finally {
      clock.set(saved);
    }
  });

  it('refuses to approve what the rules reject: dates out of order, a missing signing date, and says why', async () => {
    const c = await contract();
    const application = await (await submit(c.id, evidence(1_000_000, { invoiceDate: '2020-05-01' }))).json();
    expect(application.recommendation.decision).toBe('rejected');
    const res = await decide(application.id, { decision: 'approved' });
    expect(res.status).toBe(409);
    const problem = await res.json();
    expect(problem.code).toBe('GW_ERR_REDEMPTION_RULES_FAILED');
    expect(problem.reasons.map((r: { code: string }) => r.code)).toContain('DATES_OUT_OF_ORDER');

    const { contractSignedAt: _signed, ...unsigned } = evidence(1_000_000);
    await decide(application.id, { decision: 'rejected', reason: 'invoice predates the contract' });
    const missing = await (await submit(c.id, unsigned)).json();
    expect(missing.recommendation.reasons.map((r: { code: string }) => r.code)).toContain('CONTRACT_SIGNED_AT_MISSING');
  });

  it('pays from the actual contract when it is below the amount at application (37号 §四)', async () => {
    const c = await contract();
    const application = await (await submit(c.id, evidence(800_000, { actualContractAmountFen: 800_000 }))).json();
    expect(application.recommendation).toMatchObject({ decision: 'approved', voucherFen: 700_000, payableFen: 560_000 });
    expect(await (await decide(application.id, { decision: 'approved' })).json()).toMatchObject({ payableFen: 560_000 });
  });
});

describe('settlement in the notice order (SPEC rule 13)', () => {
  it('settles cluster pilots first, then by application time, then id, up to a budget, with a CSV and audit entries', async () => {
    // Settle whatever earlier tests approved, so this queue holds only the three below.
    await gw.api('/v1/settlements', { body: {} });
    const early = await contract();
    const pilot = await contract({ clusterPilot: true });
    const late = await contract();
    const ids: Record<string, number> = {};
    for (const [name, c] of [['early', early], ['pilot', pilot], ['late', late]] as const) {
      clock.advance(60_000);
      const application = await (await submit(c.id, evidence(1_000_000))).json();
      ids[name] = application.id;
    }
    // Decided in reverse: the settlement order is the application order, not the decision order.
    for (const name of ['late', 'pilot', 'early']) expect((await decide(ids[name]!, { decision: 'approved' })).status).toBe(200);

    const queue = await gw.json('/v1/settlements/queue');
    expect(queue.items.map((l: { applicationId: number }) => l.applicationId)).toEqual([ids.pilot, ids.early, ids.late]);
    expect(queue.items[0]).toMatchObject({ clusterPilot: true, position: 1 });
    // The pilot's voucher is 80% (37号 §四): 800,000 + 700,000 fit 2,000,000; the late 700,000 does not, and waits.
    const first = await gw.json('/v1/settlements', { body: { budgetFen: 2_000_000 } });
    expect(first).toMatchObject({ applicationIds: [ids.pilot, ids.early], totalFen: 1_500_000, budgetFen: 2_000_000 });
    const tooSmall = await gw.api('/v1/settlements', { body: { budgetFen: 699_999 } });
    expect(tooSmall.status).toBe(409);
    expect(await tooSmall.json()).toMatchObject({ code: 'GW_ERR_SETTLEMENT_NOTHING_TO_SETTLE' });
    const second = await gw.json('/v1/settlements', { body: {} });
    expect(second.applicationIds).toEqual([ids.late]);

    const csv = await (await gw.api(`/v1/settlements/${first.id}/csv`)).text();
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toMatch(/^batchId,position,applicationId,contractId/);
    expect(lines[1]).toContain(`,1,${ids.pilot},${pilot.id},`);
    expect(lines[2]).toContain(`,2,${ids.early},${early.id},`);
    expect(lines.at(-1)).toMatch(/^#total,2,.*,1500000,15000\.00$/);
    const batchAudit = await gw.json(`/v1/audit?subject=settlement:${first.id}`);
    expect(batchAudit.items[0]).toMatchObject({ action: 'settlement.batch', details: { totalFen: 1_500_000, applicationIds: [ids.pilot, ids.early] } });
    expect((await gw.json(`/v1/audit?subject=${pilot.id}&action=redemption.settle`)).items).toHaveLength(1);
  });
});

describe('spot checks (抽查, SPEC rule 14)', () => {
  it('draws a reproducible sample with its seed, records outcomes once, marks a failed settled payout for recovery', async () => {
    const { drawSample } = await import('../../../src/registry/index.js');
    const check = await gw.json('/v1/spot-checks', { key: reviewerKey, body: { count: 2, seed: 'audit-2021-q1' } });
    expect(check.seed).toBe('audit-2021-q1');
    expect(check.population.length).toBeGreaterThanOrEqual(2);
    expect(check.items.map((i: { applicationId: number }) => i.applicationId)).toEqual(drawSample('audit-2021-q1', check.population, 2));
    // The same seed over the same population draws the same sample; a percentage rounds up.
    const again = await gw.json('/v1/spot-checks', { key: reviewerKey, body: { count: 2, seed: 'audit-2021-q1' } });
    expect(again.items.map((i: { applicationId: number }) => i.applicationId)).toEqual(check.items.map((i: { applicationId: number }) => i.applicationId));
    const half = await gw.json('/v1/spot-checks', { key: reviewerKey, body: { percent: 50 } });
    expect(half.items).toHaveLength(Math.ceil(half.population.length / 2));
    expect(half.seed).toMatch(/^[0-9a-f]{32}$/);

    // Every payout approved above was settled by the settlement test.
    const settled = check.items[0];
    expect(settled.state).toBe('settled');
    const path = `/v1/spot-checks/${check.id}/outcomes/${settled.applicationId}`;
    const noNote = await gw.api(path, { method: 'PUT', key: reviewerKey, body: { outcome: 'evidence-forged' } });
    expect(noNote.status).toBe(400);
    const recorded = await gw.json(path, { method: 'PUT', key: reviewerKey, body: { outcome: 'evidence-forged', note: 'invoice number belongs to another company' } });
    const item = recorded.items.find((i: { applicationId: number }) => i.applicationId === settled.applicationId);
    expect(item).toMatchObject({ outcome: 'evidence-forged', note: 'invoice number belongs to another company' });
    expect((await gw.api(path, { method: 'PUT', key: reviewerKey, body: { outcome: 'ok' } })).status).toBe(409);

    const application = await gw.json(`/v1/redemption-applications/${settled.applicationId}`);
    expect(item.recovery).toMatchObject({ amountFen: application.payableFen });
    const recoveries = await gw.json('/v1/recoveries', { key: reviewerKey });
    expect(recoveries.items).toEqual(expect.arrayContaining([expect.objectContaining({ applicationId: settled.applicationId, spotCheckId: check.id })]));
    // Recorded, never silently reversed: the payout stays settled.
    expect(application.state).toBe('settled');

    // An admin adjusts that supplier's quota citing the outcome (37号 §三(二)); an uncited or foreign outcome is refused.
    const supplierId = application.supplierId;
    const unrecorded = check.items.find((i: { applicationId: number }) => i.applicationId !== settled.applicationId);
    const bad = await gw.api(`/v1/suppliers/${supplierId}/quota-adjustments`, {
      body: { quotaFen: 100_000, reason: 'forged invoice', cite: [{ spotCheckId: check.id, applicationId: unrecorded.applicationId }] },
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'GW_ERR_SPOT_CHECK_CITATION' });
    const adjustment = await gw.json(`/v1/suppliers/${supplierId}/quota-adjustments`, {
      body: { quotaFen: 100_000, reason: 'forged invoice found by spot check', cite: [{ spotCheckId: check.id, applicationId: settled.applicationId }] },
    });
    expect(adjustment).toMatchObject({ toFen: 100_000, citedOutcomes: [{ spotCheckId: check.id, applicationId: settled.applicationId, outcome: 'evidence-forged' }] });
    expect((await gw.json(`/v1/suppliers/${supplierId}`)).quotaFen).toBe(100_000);
    const audit = (await gw.json(`/v1/audit?subject=${supplierId}&action=supplier.quota.adjust`)).items;
    expect(audit).toHaveLength(1);
  });
});
