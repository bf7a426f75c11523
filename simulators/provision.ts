import { readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { buildCreditCode, type ApiClient } from '../src/provisioning/index.js';
import type { Scenario } from './scenario.js';

/**
 * Registers a scenario's suppliers, enterprises, contracts and devices through the gateway's
 * HTTP API (the same calls a supplier's integration would make), and keeps the issued device
 * tokens — they are returned once only — in a credentials file a later run can read.
 */

// ── credentials file ─────────────────────────────────────────────────────────────────────

const deviceCredSchema = z.object({ id: z.string(), serial: z.string(), token: z.string() });

export const provisionedSchema = z.object({
  runId: z.string(),
  contracts: z.array(
    z.object({
      name: z.string(),
      id: z.string(),
      catalogId: z.number().int(),
      supplierKey: z.string(),
      supplierId: z.string(),
      enterpriseId: z.string(),
      voucherFen: z.number().int(),
      requiredDevices: z.number().int().nullable(),
    }),
  ),
  /** One entry per scenario fleet, in scenario order (contract, then fleet). */
  fleets: z.array(z.object({ contract: z.string(), fleetIndex: z.number().int(), profile: z.string(), devices: z.array(deviceCredSchema) })),
});

export type Provisioned = z.infer<typeof provisionedSchema>;

export function writeCredentials(file: string, provisioned: Provisioned): void {
  writeFileSync(file, JSON.stringify(provisioned, null, 2) + '\n', { mode: 0o600 });
}

export function readCredentials(file: string): Provisioned {
  return provisionedSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
}

/** Checks that a credentials file was made for this scenario's contracts and fleets. */
export function assertMatchesScenario(provisioned: Provisioned, scenario: Scenario): void {
  for (const c of scenario.contracts) {
    c.fleets.forEach((f, i) => {
      const p = provisioned.fleets.find((x) => x.contract === c.name && x.fleetIndex === i);
      if (!p || p.profile !== f.profile || p.devices.length !== f.devices) {
        throw new Error(`credentials do not match the scenario: fleet ${c.name}#${i} (${f.profile}, ${f.devices} devices)`);
      }
    });
  }
}

// ── provisioning ─────────────────────────────────────────────────────────────────────────

/** The same run id gives the same codes; different runs against one gateway (almost always) differ. */
function creditCode(runId: string, n: number): string {
  let h = 0;
  for (const ch of runId) h = (Math.imul(h, 31) + ch.charCodeAt(0)) >>> 0;
  return buildCreditCode(((h % 9000) + 1000) * 1000 + n);
}

const APPLIED_AT = '2020-06-01T10:00:00+08:00'; // inside the 2020 application window (37号 §一)
const SIGNED_AT = '2020-05-20T10:00:00+08:00'; // after 2018-03-20 (redemption guide)
const DEVICE_BATCH = 5000;

export async function provisionScenario(
  api: ApiClient,
  scenario: Scenario,
  options: { runId: string },
): Promise<Provisioned> {
  const { runId } = options;
  const supplierIds = new Map<string, string>();
  const contracts: Provisioned['contracts'] = [];
  const fleets: Provisioned['fleets'] = [];
  const serialsByContract = new Map<string, string[]>();

  // Honest registrations first, so cloned-serial fleets can copy serials from any contract.
  for (const [ci, c] of scenario.contracts.entries()) {
    let supplierId = supplierIds.get(c.supplier);
    if (!supplierId) {
      const meta = scenario.suppliers[c.supplier] ?? { name: `Supplier ${c.supplier}`, kind: 'other' as const };
      supplierId = (await api.json<{ id: string }>('/v1/suppliers', { body: { name: `${meta.name} (${runId})`, kind: meta.kind } })).id;
      supplierIds.set(c.supplier, supplierId);
    }
    const enterprise = await api.json<{ id: string }>('/v1/enterprises', {
      body: { name: `${c.enterprise ?? `${c.name} 企业`} (${runId})`, creditCode: creditCode(runId, ci), city: c.city, clusterPilot: false },
    });
    const contract = await api.json<{ id: string; voucherFen: number; requiredDevices: number | null }>('/v1/contracts', {
      body: {
        enterpriseId: enterprise.id,
        supplierId,
        catalogId: c.catalogId,
        contractAmountFen: c.contractAmountFen,
        appliedAt: APPLIED_AT,
        contractSignedAt: SIGNED_AT,
        program: 2020,
      },
    });
    contracts.push({
      name: c.name,
      id: contract.id,
      catalogId: c.catalogId,
      supplierKey: c.supplier,
      supplierId,
      enterpriseId: enterprise.id,
      voucherFen: contract.voucherFen,
      requiredDevices: contract.requiredDevices,
    });
    const serials: string[] = [];
    for (const [fi, f] of c.fleets.entries()) {
      if (f.profile === 'cloned-serial') continue;
      const fleetSerials = Array.from({ length: f.devices }, (_, i) => `SN-${runId}-${ci}-${fi}-${i}`);
      serials.push(...fleetSerials);
      fleets.push({ contract: c.name, fleetIndex: fi, profile: f.profile, devices: await register(api, contract.id, fleetSerials) });
    }
    serialsByContract.set(c.name, serials);
  }
  for (const c of scenario.contracts) {
    const contractId = contracts.find((x) => x.name === c.name)!.id;
    for (const [fi, f] of c.fleets.entries()) {
      if (f.profile !== 'cloned-serial') continue;
      const source = serialsByContract.get(f.cloneOf!)!;
      // Cloned serials already used by earlier clone fleets of this contract are skipped (one supplier, one serial).
      const used = new Set(fleets.filter((x) => x.contract === c.name).flatMap((x) => x.devices.map((d) => d.serial)));
      const serials = source.filter((s) => !used.has(s)).slice(0, f.devices);
      fleets.push({ contract: c.name, fleetIndex: fi, profile: f.profile, devices: await register(api, contractId, serials) });
    }
  }
  // Scenario order, whatever the registration order was.
  fleets.sort((a, b) => scenarioIndex(scenario, a) - scenarioIndex(scenario, b));
  return { runId, contracts, fleets };
}

function scenarioIndex(scenario: Scenario, f: { contract: string; fleetIndex: number }): number {
  return scenario.contracts.findIndex((c) => c.name === f.contract) * 1000 + f.fleetIndex;
}

async function register(api: ApiClient, contractId: string, serials: string[]) {
  const out: Array<{ id: string; serial: string; token: string }> = [];
  for (let i = 0; i < serials.length; i += DEVICE_BATCH) {
    const batch = serials.slice(i, i + DEVICE_BATCH);
    const res = await api.json<{ devices: Array<{ id: string; serial: string; token: string }> }>(`/v1/contracts/${contractId}/devices`, {
      body: { devices: batch.map((serial) => ({ serial, model: 'CNC-SIM' })) },
    });
    out.push(...res.devices.map(({ id, serial, token }) => ({ id, serial, token })));
  }
  return out;
}
