import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTestRegistry, seedSupplierContract, stubEngine, type TestRegistry } from './fixtures.js';

let t: TestRegistry;
beforeEach(async () => {
  t = await openTestRegistry({ engine: stubEngine });
});
afterEach(() => t.close());

describe('audit log', () => {
  it('records who, what and when for each state change', async () => {
    t.clock.set('2020-06-03T09:30:00+08:00');
    const supplier = await t.registry.suppliers.create({ name: 'S', kind: 'other' }, 'key_admin0000001');
    const [entry] = (await t.registry.audit.page({ subject: supplier.id })).items;
    expect(entry).toMatchObject({
      at: '2020-06-03T09:30:00.000+08:00',
      actor: 'key_admin0000001',
      action: 'supplier.create',
      subject: supplier.id,
      details: { name: 'S', kind: 'other', quotaFen: 500_000_000 },
    });
  });

  it('never records a device token or an API key', async () => {
    const { contractId } = await seedSupplierContract(t.registry);
    const issued = await t.registry.devices.register(contractId, [{ serial: 'T1' }, { serial: 'T2' }], 'test');
    const rotated = await t.registry.devices.rotateToken(issued[0]!.id, 'test');
    const key = await t.registry.apiKeys.create({ role: 'reviewer' }, 'test');
    const generated = await t.registry.apiKeys.bootstrapAdmin();

    const all = JSON.stringify(t.db.prepare('SELECT * FROM audit_log').all());
    for (const secret of [...issued.map((d) => d.token), rotated.token, key.key, generated.key!]) {
      expect(all).not.toContain(secret);
    }
    const actions = (await t.registry.audit.page()).items.map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(['device.register', 'device.token.rotate', 'api-key.create', 'api-key.bootstrap']),
    );
  });

  it('refuses UPDATE and DELETE at the database level', async () => {
    await t.registry.suppliers.create({ name: 'S', kind: 'other' }, 'test');
    expect(() => t.db.prepare("UPDATE audit_log SET actor = 'someone else'").run()).toThrow(/append-only/);
    expect(() => t.db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
    expect((await t.registry.audit.page()).items).toHaveLength(1);
  });

  it('writes nothing when the change itself fails', async () => {
    const { contractId } = await seedSupplierContract(t.registry);
    await t.registry.devices.register(contractId, [{ serial: 'X' }], 'test');
    const before = (await t.registry.audit.page({ action: 'device.register' })).items.length;
    await expect(t.registry.devices.register(contractId, [{ serial: 'Y' }, { serial: 'X' }], 'test')).rejects.toThrow();
    expect((await t.registry.audit.page({ action: 'device.register' })).items.length).toBe(before);
  });
});
