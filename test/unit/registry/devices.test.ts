import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors.js';
import { DEVICE_ID_RE } from '../../../src/registry/index.js';
import { openTestRegistry, seedSupplierContract, stubEngine, type TestRegistry } from './fixtures.js';

let t: TestRegistry;
beforeEach(async () => {
  t = await openTestRegistry({ engine: stubEngine });
});
afterEach(() => t.close());

function serials(prefix: string, n: number): { serial: string; model: string }[] {
  return Array.from({ length: n }, (_, i) => ({ serial: `${prefix}-${String(i).padStart(5, '0')}`, model: 'CNC-5000' }));
}

async function catchAppError(fn: () => Promise<unknown>): Promise<AppError> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected an AppError');
}

describe('device registration', () => {
  it('registers 10,000 devices in one call, each with a 128-bit token that verifies', async () => {
    const { contractId, supplierId } = await seedSupplierContract(t.registry);
    const started = performance.now();
    const issued = await t.registry.devices.register(contractId, serials('SN', 10_000), 'test');
    const ms = performance.now() - started;
    console.log(`registered 10,000 devices in ${ms.toFixed(0)} ms`);

    expect(issued).toHaveLength(10_000);
    expect(new Set(issued.map((d) => d.id)).size).toBe(10_000);
    for (const device of issued) {
      expect(device.id).toMatch(DEVICE_ID_RE);
      expect(device.token).toMatch(/^[0-9a-f]{32}$/);
      expect(await t.registry.devices.verifyToken(device.id, device.token)).toBe('ok');
    }
    expect(await t.registry.devices.countByContract(contractId)).toBe(10_000);
    const info = (await t.registry.devices.authInfo(issued[0]!.id))!;
    expect(info).toMatchObject({ deviceId: issued[0]!.id, enabled: true, contractId, supplierId });
    expect(info.tokenSha256).toHaveLength(32);
  });

  it('stores only the SHA-256 of each token', async () => {
    const { contractId } = await seedSupplierContract(t.registry);
    const [device] = await t.registry.devices.register(contractId, [{ serial: 'A1' }], 'test');
    const row = t.db.prepare('SELECT * FROM devices WHERE id = ?').get(device!.id) as Record<string, unknown>;
    expect(JSON.stringify(row)).not.toContain(device!.token);
    expect((row.token_sha256 as Buffer).toString('hex')).toBe(
      ((await t.registry.devices.authInfo(device!.id))!.tokenSha256 as Buffer).toString('hex'),
    );
  });

  it('refuses a serial the supplier already registered, naming it, and registers nothing of the batch', async () => {
    const { contractId, supplierId } = await seedSupplierContract(t.registry);
    await t.registry.devices.register(contractId, [{ serial: 'DUP-1' }, { serial: 'DUP-2' }], 'test');
    // A second contract of the same supplier: the serial is still taken.
    const enterprise = await t.registry.enterprises.create(
      { name: 'x', creditCode: '914403001922038216', city: '佛山', clusterPilot: false },
      'test',
    );
    const second = await t.registry.contracts.create(
      { enterpriseId: enterprise.id, supplierId, program: 2020, catalogId: 5, contractAmountFen: 1000, appliedAt: '2020-06-02T10:00:00+08:00' },
      'test',
    );
    const err = await catchAppError(async () =>
      await t.registry.devices.register(second.id, [{ serial: 'NEW-1' }, { serial: 'DUP-2' }], 'test'),
    );
    expect(err.httpStatus).toBe(409);
    expect(err.message).toContain('DUP-2');
    expect(err.message).not.toContain('NEW-1');
    expect(await t.registry.devices.countByContract(second.id)).toBe(0);
  });

  it('refuses a serial repeated within one request', async () => {
    const { contractId } = await seedSupplierContract(t.registry);
    const err = await catchAppError(async () =>
      await t.registry.devices.register(contractId, [{ serial: 'R1' }, { serial: 'R2' }, { serial: 'R1' }], 'test'),
    );
    expect(err.httpStatus).toBe(409);
    expect(err.message).toMatch(/repeated in the request: R1/);
    expect(await t.registry.devices.countByContract(contractId)).toBe(0);
  });

  it("allows the same serial under another supplier's contract and reports it as a duplicate", async () => {
    const a = await seedSupplierContract(t.registry, 'A');
    const b = await seedSupplierContract(t.registry, 'B');
    await t.registry.devices.register(a.contractId, [{ serial: 'CLONE-1' }, { serial: 'ONLY-A' }], 'test');
    await t.registry.devices.register(b.contractId, [{ serial: 'CLONE-1' }, { serial: 'ONLY-B' }], 'test');

    const duplicates = await t.registry.devices.duplicateSerials(['CLONE-1', 'ONLY-A', 'ONLY-B', 'NEVER']);
    expect([...duplicates.keys()]).toEqual(['CLONE-1']);
    expect(duplicates.get('CLONE-1')).toEqual([a.contractId, b.contractId]);
  });

  it('lists a contract’s devices in registration order, all at once and page by page', async () => {
    const { contractId } = await seedSupplierContract(t.registry);
    const issued = await t.registry.devices.register(contractId, serials('P', 250), 'test');
    expect(await t.registry.devices.serialsByContract(contractId)).toEqual(issued.map((d) => ({ id: d.id, serial: d.serial })));

    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await t.registry.devices.pageByContract(contractId, { limit: 100, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((d) => d.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(issued.map((d) => d.id));
  });
});

describe('device token verification', () => {
  it('answers ok, bad-token, unknown-device and disabled', async () => {
    const { contractId } = await seedSupplierContract(t.registry);
    const [device] = await t.registry.devices.register(contractId, [{ serial: 'V1' }], 'test');
    const { id, token } = device!;

    expect(await t.registry.devices.verifyToken(id, token)).toBe('ok');
    expect(await t.registry.devices.verifyToken(id, token.replace(/.$/, (c) => (c === '0' ? '1' : '0')))).toBe('bad-token');
    expect(await t.registry.devices.verifyToken(id, '')).toBe('bad-token');
    expect(await t.registry.devices.verifyToken('d0000000000000000', token)).toBe('unknown-device');

    await t.registry.devices.setEnabled(id, false, 'test');
    expect(await t.registry.devices.verifyToken(id, token)).toBe('disabled');
    expect((await t.registry.devices.authInfo(id))!.enabled).toBe(false);
    // A wrong token on a disabled device is still just a wrong token.
    expect(await t.registry.devices.verifyToken(id, 'f'.repeat(32))).toBe('bad-token');

    await t.registry.devices.setEnabled(id, true, 'test');
    expect(await t.registry.devices.verifyToken(id, token)).toBe('ok');
  });

  it('rotating a token makes the old one fail and the new one work', async () => {
    const { contractId } = await seedSupplierContract(t.registry);
    const [device] = await t.registry.devices.register(contractId, [{ serial: 'ROT' }], 'test');
    const rotated = await t.registry.devices.rotateToken(device!.id, 'test');
    expect(rotated.token).not.toBe(device!.token);
    expect(await t.registry.devices.verifyToken(device!.id, device!.token)).toBe('bad-token');
    expect(await t.registry.devices.verifyToken(device!.id, rotated.token)).toBe('ok');
  });
});
