import { openTestRegistry, buildEnterprise } from '../test/unit/registry/fixtures.js';
const t = await openTestRegistry();
const s = await t.registry.suppliers.create({ name: 'S', kind: 'platform' }, 'x');
const e = await t.registry.enterprises.create(buildEnterprise(), 'x');
const start = performance.now();
for (let i = 0; i < 500; i++) {
  await t.registry.contracts.create({ enterpriseId: e.id, supplierId: s.id, program: 2020, catalogId: 5, contractAmountFen: 100_000 + i, appliedAt: '2020-06-01T10:00:00+08:00' }, 'x');
  if (i % 100 === 99) console.log(i + 1, Math.round(performance.now() - start), 'ms');
}
await t.close();
