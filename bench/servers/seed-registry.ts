/**
 * Seeds devices straight through the registry (not the HTTP API: 20,000 devices in a second,
 * not a minute). Contracts are real ones on the 2020 rules engine (catalog item 5).
 */
import { buildCreditCode } from '../../src/provisioning/index.js';
import type { Registry } from '../../src/registry/index.js';

export interface BenchDevice {
  id: string;
  token: string;
}

const ACTOR = 'bench';
let enterprises = 0;

export async function seedSupplier(registry: Registry): Promise<string> {
  return (await registry.suppliers.create({ name: 'Bench supplier', kind: 'platform' }, ACTOR)).id;
}

/** One contract with `devices` devices (registered in chunks of at most 10,000). */
export async function seedContract(registry: Registry, supplierId: string, devices: number): Promise<{ contractId: string; devices: BenchDevice[] }> {
  const enterprise = await registry.enterprises.create(
    { name: `基准企业 ${enterprises + 1}`, creditCode: buildCreditCode(++enterprises), city: '佛山', clusterPilot: false },
    ACTOR,
  );
  const contract = await registry.contracts.create(
    { enterpriseId: enterprise.id, supplierId, program: 2020, catalogId: 5, contractAmountFen: 10_000_000, appliedAt: '2020-06-01T10:00:00+08:00' },
    ACTOR,
  );
  const out: BenchDevice[] = [];
  for (let start = 0; start < devices; start += 10_000) {
    const n = Math.min(10_000, devices - start);
    const issued = await registry.devices.register(
      contract.id,
      Array.from({ length: n }, (_, i) => ({ serial: `BENCH-${contract.id}-${start + i}` })),
      ACTOR,
    );
    for (const d of issued) out.push({ id: d.id, token: d.token });
  }
  return { contractId: contract.id, devices: out };
}
