import { startLocalGateway, buildCreditCode } from '../src/provisioning/index.js';
const local = await startLocalGateway({ env: { GATEWAY_ADMIN_KEY: 'test-admin-key-0123456789abcdef', GATEWAY_LOG_LEVEL: 'silent' } });
const api = local.api;
const sup = await api.json<{ id: string }>('/v1/suppliers', { method: 'POST', body: { name: 'S', kind: 'platform' } });
await api.json(`/v1/suppliers/${sup.id}/quota`, { method: 'PUT', body: { quotaFen: 5_000_000_00 } });
const ents: string[] = [];
for (let i = 0; i < 40; i++) ents.push((await api.json<{ id: string }>('/v1/enterprises', { method: 'POST', body: { name: 'E', creditCode: buildCreditCode(700_000 + i), city: '佛山', clusterPilot: false } })).id);
const start = performance.now();
let n = 0;
await Promise.all(Array.from({ length: 8 }, async () => {
  while (n < Number(process.argv[2] ?? 600)) {
    const i = n++;
    await api.json('/v1/contracts', { method: 'POST', body: { enterpriseId: ents[i % ents.length], supplierId: sup.id, catalogId: 5, contractAmountFen: 10_000_000, appliedAt: '2020-06-01T10:00:00+08:00', program: 2020 } });
    if (i % 100 === 99) console.log(i + 1, Math.round(performance.now() - start), 'ms');
  }
}));
await local.close();
