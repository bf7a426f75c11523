import { openTestRegistry, buildEnterprise } from '../test/unit/registry/fixtures.js';
const t = await openTestRegistry();
const s = await t.registry.suppliers.create({ name: 'S', kind: 'platform' }, 'x');
const e = await t.registry.enterprises.create(buildEnterprise(), 'x');
const start = performance.now();
let n = 0;
await Promise.all(Array.from({ length: 8 }, async () => {
  while (n < 300) {
    n++;
    await t.registry.contracts.create({ enterpriseId: e.id, supplierId: s.id, program: 2020, catalogId: 5, contractAmountFen: 100_000 + n, appliedAt: '2020-06-01T10:00:00+08:00' }, 'x');
    if (n % 100 === 0) console.log(n, Math.round(performance.now() - start), 'ms');
  }
}));
await t.close();
