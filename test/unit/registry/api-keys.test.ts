import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTestRegistry, stubEngine, type TestRegistry } from './fixtures.js';

let t: TestRegistry;
beforeEach(async () => {
  t = await openTestRegistry({ engine: stubEngine });
});
afterEach(() => t.close());

describe('API keys', () => {
  it('issues a 256-bit gk_ key that authenticates to its role, and stores only its digest', async () => {
    const issued = await t.registry.apiKeys.create({ role: 'reviewer' }, 'test');
    expect(issued.key).toMatch(/^gk_[A-Za-z0-9_-]{43}$/);
    expect(await t.registry.apiKeys.authenticate(issued.key)).toEqual({ keyId: issued.id, role: 'reviewer', expiresAt: null });
    const rows = JSON.stringify(t.db.prepare('SELECT * FROM api_keys').all());
    expect(rows).not.toContain(issued.key);
    expect(rows).not.toContain(issued.key.slice(3));
  });

  it('binds a supplier key to its supplier', async () => {
    const supplier = await t.registry.suppliers.create({ name: 'S', kind: 'platform' }, 'test');
    const issued = await t.registry.apiKeys.create({ role: 'supplier', supplierId: supplier.id }, 'test');
    expect(await t.registry.apiKeys.authenticate(issued.key)).toEqual({ keyId: issued.id, role: 'supplier', supplierId: supplier.id, expiresAt: null });
  });

  it('refuses a supplier key without an existing supplier, and a supplier on other roles', async () => {
    await expect(t.registry.apiKeys.create({ role: 'supplier' }, 'test')).rejects.toThrow(/supplierId/);
    await expect(t.registry.apiKeys.create({ role: 'supplier', supplierId: 'sup_nonexistent0' }, 'test')).rejects.toThrow(/no supplier/);
    const supplier = await t.registry.suppliers.create({ name: 'S', kind: 'other' }, 'test');
    await expect(t.registry.apiKeys.create({ role: 'admin', supplierId: supplier.id }, 'test')).rejects.toThrow(/not bound/);
  });

  it('fails to authenticate a revoked key, an unknown key and a near-miss', async () => {
    await t.registry.apiKeys.create({ role: 'admin' }, 'test'); // the last live admin key is never revoked
    const issued = await t.registry.apiKeys.create({ role: 'admin' }, 'test');
    expect(await t.registry.apiKeys.authenticate(`${issued.key}x`)).toBeUndefined();
    expect(await t.registry.apiKeys.authenticate('gk_unknown')).toBeUndefined();
    expect(await t.registry.apiKeys.revoke(issued.id, 'test')).toBe(true);
    expect(await t.registry.apiKeys.authenticate(issued.key)).toBeUndefined();
    expect((await t.registry.apiKeys.get(issued.id))!.revokedAt).not.toBeNull();
    expect(await t.registry.apiKeys.revoke('key_doesnotexist', 'test')).toBe(false);
  });

  it('never revokes the last live admin key; an expired admin key does not count as live', async () => {
    const only = await t.registry.apiKeys.create({ role: 'admin' }, 'test');
    await expect(t.registry.apiKeys.revoke(only.id, 'test')).rejects.toThrow(/last live admin key/);
    const expiring = await t.registry.apiKeys.create({ role: 'admin', expiresAt: new Date(t.clock.now() + 60_000).toISOString() }, 'test');
    t.clock.advance(60_000);
    expect(await t.registry.apiKeys.authenticate(expiring.key)).toBeUndefined();
    await expect(t.registry.apiKeys.revoke(only.id, 'test')).rejects.toThrow(/last live admin key/);
    expect((await t.registry.apiKeys.authenticate(only.key))?.role).toBe('admin');
  });

  it('lists keys without the keys themselves', async () => {
    const issued = await t.registry.apiKeys.create({ role: 'reviewer' }, 'test');
    const page = await t.registry.apiKeys.page();
    expect(page.items.map((k) => k.id)).toEqual([issued.id]);
    expect(JSON.stringify(page)).not.toContain(issued.key);
  });
});

describe('admin bootstrap', () => {
  it('generates an admin key once when none is configured and none exists', async () => {
    const first = await t.registry.apiKeys.bootstrapAdmin();
    expect(first.key).toMatch(/^gk_/);
    expect((await t.registry.apiKeys.authenticate(first.key!))?.role).toBe('admin');
    expect(await t.registry.apiKeys.bootstrapAdmin()).toEqual({});
  });

  it('makes a configured key an admin key, idempotently, without returning it', async () => {
    const configured = 'configured-admin-key-0123456789';
    expect(await t.registry.apiKeys.bootstrapAdmin(configured)).toEqual({});
    expect(await t.registry.apiKeys.bootstrapAdmin(configured)).toEqual({});
    expect((await t.registry.apiKeys.authenticate(configured))?.role).toBe('admin');
    expect((await t.registry.apiKeys.page()).items).toHaveLength(1);
  });

  it('refuses a configured key that had been revoked, naming the way out, and keeps it revoked', async () => {
    const configured = 'configured-admin-key-0123456789';
    await t.registry.apiKeys.bootstrapAdmin(configured);
    const { keyId } = (await t.registry.apiKeys.authenticate(configured))!;
    await t.registry.apiKeys.create({ role: 'admin' }, 'test');
    await t.registry.apiKeys.revoke(keyId, 'test');
    await expect(t.registry.apiKeys.bootstrapAdmin(configured)).rejects.toThrow(/revoked.*set GATEWAY_ADMIN_KEY to a new value/s);
    expect(await t.registry.apiKeys.authenticate(configured)).toBeUndefined();
  });
});
