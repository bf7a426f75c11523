import { buildCreditCode as creditCodeOf } from '../../src/provisioning/index.js';

/** Minimal HTTP client a seeder needs (TestGateway fits, so does a remote gateway). */
export interface SeedTarget {
  json<T = any>(path: string, init?: { method?: string; body?: unknown; key?: string | null }): Promise<T>;
}

export interface SeededDevice {
  id: string;
  serial: string;
  token: string;
  contractId: string;
}

export interface SeededContract {
  supplierId: string;
  enterpriseId: string;
  contractId: string;
  voucherFen: number;
  requiredDevices: number | null;
  devices: SeededDevice[];
}

let enterpriseCounter = 0;

/** A valid 统一社会信用代码 (GB 32100-2015), different on every call. */
export function buildCreditCode(n = ++enterpriseCounter): string {
  return creditCodeOf(n);
}

/** Creates supplier → enterprise → contract → devices through the real API. */
export async function seedContract(
  target: SeedTarget,
  options: {
    devices: number;
    supplierId?: string;
    supplierName?: string;
    catalogId?: number;
    contractAmountFen?: number;
    city?: string;
    serialPrefix?: string;
    serials?: string[];
  },
): Promise<SeededContract> {
  const supplierId =
    options.supplierId ??
    (await target.json<{ id: string }>('/v1/suppliers', { body: { name: options.supplierName ?? 'Test supplier', kind: 'platform' } })).id;
  const enterprise = await target.json<{ id: string }>('/v1/enterprises', {
    body: { name: `企业 ${enterpriseCounter + 1}`, creditCode: buildCreditCode(), city: options.city ?? '佛山', clusterPilot: false },
  });
  const contract = await target.json<{ id: string; voucherFen: number; requiredDevices: number | null }>('/v1/contracts', {
    body: {
      enterpriseId: enterprise.id,
      supplierId,
      catalogId: options.catalogId ?? 5,
      contractAmountFen: options.contractAmountFen ?? 10_000_000,
      appliedAt: '2020-06-01T10:00:00+08:00',
      program: 2020,
    },
  });
  const prefix = options.serialPrefix ?? `SN-${contract.id}-`;
  const serials = options.serials ?? Array.from({ length: options.devices }, (_, i) => `${prefix}${i}`);
  const registered = serials.length
    ? await target.json<{ devices: { id: string; serial: string; token: string }[] }>(`/v1/contracts/${contract.id}/devices`, {
        body: { devices: serials.map((serial) => ({ serial })) },
      })
    : { devices: [] };
  return {
    supplierId,
    enterpriseId: enterprise.id,
    contractId: contract.id,
    voucherFen: contract.voucherFen,
    requiredDevices: contract.requiredDevices,
    devices: registered.devices.map((d) => ({ ...d, contractId: contract.id })),
  };
}
