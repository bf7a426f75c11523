/**
 * Contracts with the real rules engine: the voucher of each contract is computed over all of
 * the enterprise's contracts (附件 说明3 cap in application order, 说明4 groups), and each
 * contract is admitted or waitlisted against city and supplier quotas (37号 §一, §三).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildContract, buildEnterprise, openTestRegistry, type TestRegistry } from './fixtures.js';

let t: TestRegistry;
beforeEach(async () => {
  t = await openTestRegistry();
});
afterEach(() => t.close());

const WAN = 1_000_000; // 1万元 in fen

async function setup(kind: 'platform' | 'other' = 'other') {
  const supplier = await t.registry.suppliers.create({ name: '供应商', kind }, 'test');
  const enterprise = await t.registry.enterprises.create(buildEnterprise({ city: '佛山' }), 'test');
  return { supplierId: supplier.id, enterpriseId: enterprise.id };
}

describe('contract evaluation', () => {
  it('stores the voucher and required devices the engine computes (附件 #5: ceil(voucher ÷ 1500元))', async () => {
    const refs = await setup();
    const contract = await t.registry.contracts.create(buildContract(refs, { catalogId: 5, contractAmountFen: 10 * WAN }), 'test');
    // 佛山 is in the Pearl River Delta: 70% (37号 §四) of 10万 = 7万, under the 10万 item cap.
    expect(contract).toMatchObject({ decision: 'approved', voucherFen: 7 * WAN, requiredDevices: 47, status: 'admitted' });
    expect(contract.id).toMatch(/^ctr_[a-z2-7]{12}$/);
    expect(contract.appliedAt).toBe('2020-06-01T10:00:00.000+08:00');
    expect(contract.evaluation.enterprise.city).toEqual({ name: '佛山市', code: '440600' });
    expect(contract.evaluation.reasons.length).toBeGreaterThan(0);
  });

  it('moves the 30万 enterprise cap when an earlier-applied contract is added later (说明3)', async () => {
    const refs = await setup();
    const x = await t.registry.contracts.create(
      buildContract(refs, { catalogId: 26, contractAmountFen: 40 * WAN, appliedAt: '2020-07-01T10:00:00+08:00' }),
      'test',
    );
    const y = await t.registry.contracts.create(
      buildContract(refs, { catalogId: 13, contractAmountFen: 30 * WAN, appliedAt: '2020-08-01T10:00:00+08:00' }),
      'test',
    );
    expect(x).toMatchObject({ decision: 'approved', voucherFen: 28 * WAN });
    expect(y).toMatchObject({ decision: 'reduced', voucherFen: 2 * WAN });

    // Applied before both: it takes its 14万 first, X keeps the 16万 headroom, Y gets nothing.
    const w = await t.registry.contracts.create(
      buildContract(refs, { catalogId: 2, contractAmountFen: 20 * WAN, appliedAt: '2020-06-01T10:00:00+08:00' }),
      'test',
    );
    expect(w).toMatchObject({ decision: 'approved', voucherFen: 14 * WAN });
    expect(await t.registry.contracts.get(x.id)).toMatchObject({ decision: 'reduced', voucherFen: 16 * WAN });
    expect(await t.registry.contracts.get(y.id)).toMatchObject({ decision: 'rejected', voucherFen: 0, status: 'rejected' });

    const reevaluated = (await t.registry.audit.page({ action: 'contract.reevaluate' })).items.map((e) => e.subject);
    expect(reevaluated).toEqual(expect.arrayContaining([x.id, y.id]));
  });

  it("keeps other enterprises' vouchers out of the cap", async () => {
    const refs = await setup();
    const other = await t.registry.enterprises.create(buildEnterprise(), 'test');
    await t.registry.contracts.create(buildContract(refs, { catalogId: 26, contractAmountFen: 40 * WAN }), 'test');
    const theirs = await t.registry.contracts.create(
      buildContract({ ...refs, enterpriseId: other.id }, { catalogId: 26, contractAmountFen: 40 * WAN }),
      'test',
    );
    expect(theirs).toMatchObject({ decision: 'approved', voucherFen: 28 * WAN });
  });

  it('rejects a second item of an exclusion group, counting prior vouchers (说明4)', async () => {
    const { supplierId } = await setup();
    const enterprise = await t.registry.enterprises.create(buildEnterprise({ priorVouchers: [{ catalogId: 9, year: 2019, voucherFen: 100_000, paid: true }] }), 'test');
    const contract = await t.registry.contracts.create(
      buildContract({ enterpriseId: enterprise.id, supplierId }, { catalogId: 5 }),
      'test',
    );
    expect(contract).toMatchObject({ decision: 'rejected', voucherFen: 0, status: 'rejected' });
  });
});

describe('quota allocation', () => {
  it('waitlists a contract over the supplier quota and admits it when the quota is raised', async () => {
    const refs = await setup();
    await t.registry.suppliers.setQuota(refs.supplierId, 10 * WAN, 'test');
    const second = await t.registry.enterprises.create(buildEnterprise(), 'test');
    const first = await t.registry.contracts.create(buildContract(refs, { catalogId: 5, contractAmountFen: 10 * WAN }), 'test');
    const later = await t.registry.contracts.create(
      buildContract({ ...refs, enterpriseId: second.id }, { catalogId: 5, contractAmountFen: 10 * WAN, appliedAt: '2020-06-02T10:00:00+08:00' }),
      'test',
    );
    expect(first.status).toBe('admitted');
    // 7万 + 7万 > 10万: the whole voucher must fit, so it waits (SPEC: waitlisted, not reduced).
    expect(later).toMatchObject({ status: 'waitlisted', voucherFen: 7 * WAN });
    expect((await t.registry.quotas.get(2020)).suppliers.find((s) => s.id === refs.supplierId)).toMatchObject({
      quotaFen: 10 * WAN,
      usedFen: 7 * WAN,
    });

    await t.registry.suppliers.setQuota(refs.supplierId, 14 * WAN, 'test');
    expect((await t.registry.contracts.get(later.id))!.status).toBe('admitted');
    expect((await t.registry.quotas.get(2020)).suppliers.find((s) => s.id === refs.supplierId)!.usedFen).toBe(14 * WAN);
    const allocations = (await t.registry.audit.page({ subject: later.id, action: 'contract.allocate' })).items;
    expect(allocations.map((e) => e.details)).toEqual([{ from: 'waitlisted', to: 'admitted' }]);
  });

  it('waitlists over a city quota and admits when the city quota is lifted', async () => {
    const refs = await setup('platform');
    await t.registry.quotas.setCityQuota(2020, '佛山', 10 * WAN, 'test');
    const second = await t.registry.enterprises.create(buildEnterprise(), 'test');
    await t.registry.contracts.create(buildContract(refs, { catalogId: 5, contractAmountFen: 10 * WAN }), 'test');
    const later = await t.registry.contracts.create(
      buildContract({ ...refs, enterpriseId: second.id }, { catalogId: 5, contractAmountFen: 10 * WAN, appliedAt: '2020-06-02T10:00:00+08:00' }),
      'test',
    );
    expect(later.status).toBe('waitlisted');
    expect((await t.registry.quotas.get(2020)).cities.find((c) => c.code === '440600')).toMatchObject({
      name: '佛山市',
      quotaFen: 10 * WAN,
      usedFen: 7 * WAN,
    });

    const quotas = await t.registry.quotas.setCityQuota(2020, '440600', null, 'test');
    expect(quotas.cities.find((c) => c.code === '440600')).toMatchObject({ quotaFen: null, usedFen: 14 * WAN });
    expect((await t.registry.contracts.get(later.id))!.status).toBe('admitted');
  });

  it('admits a cluster pilot before an earlier non-pilot application (37号 §一)', async () => {
    const refs = await setup();
    await t.registry.suppliers.setQuota(refs.supplierId, 10 * WAN, 'test');
    const pilot = await t.registry.enterprises.create(buildEnterprise({ clusterPilot: true }), 'test');
    const early = await t.registry.contracts.create(buildContract(refs, { catalogId: 5, contractAmountFen: 10 * WAN }), 'test');
    expect(early.status).toBe('admitted');
    const pilotContract = await t.registry.contracts.create(
      buildContract({ ...refs, enterpriseId: pilot.id }, { catalogId: 5, contractAmountFen: 10 * WAN, appliedAt: '2020-06-03T10:00:00+08:00' }),
      'test',
    );
    // Cluster pilots get 80%: 8万, which takes the 10万 quota first.
    expect(pilotContract).toMatchObject({ voucherFen: 8 * WAN, status: 'admitted' });
    expect((await t.registry.contracts.get(early.id))!.status).toBe('waitlisted');
  });

  it('starts supplier quotas at 800万元 for platforms and 500万元 for others (37号 §三)', async () => {
    expect((await t.registry.suppliers.create({ name: 'P', kind: 'platform' }, 'test')).quotaFen).toBe(800 * WAN);
    expect((await t.registry.suppliers.create({ name: 'O', kind: 'other' }, 'test')).quotaFen).toBe(500 * WAN);
  });
});

describe('enterprises', () => {
  it('resolves a city given by name or code to both', async () => {
    expect((await t.registry.enterprises.create(buildEnterprise({ city: '揭阳市' }), 'test')).city).toEqual({ name: '揭阳市', code: '445200' });
    expect((await t.registry.enterprises.create(buildEnterprise({ city: '440100' }), 'test')).city).toEqual({ name: '广州市', code: '440100' });
  });

  it('refuses an unknown city and a bad credit code, naming the field', async () => {
    await expect(t.registry.enterprises.create(buildEnterprise({ city: 'Atlantis' }), 'test')).rejects.toThrow(/unknown city/);
    try {
      await t.registry.enterprises.create(buildEnterprise({ creditCode: '914403001922038217' }), 'test');
      expect.unreachable();
    } catch (err) {
      expect((err as { errors: { path: string }[] }).errors.map((e) => e.path)).toEqual(['body.creditCode']);
    }
  });
});
