import type { CatalogItem, City, ExclusionGroup, Program } from './program-schema.js';
import { ceilDiv } from './money.js';

/**
 * Look-ups into a program year. Indexes are built per call (27 items, 21 cities: trivial)
 * rather than cached in module state, so the engine keeps no globals.
 */

export function getCatalogItem(program: Program, catalogId: number): CatalogItem | undefined {
  return program.catalog.find((item) => item.id === catalogId);
}

export function catalogIndex(program: Program): Map<number, CatalogItem> {
  return new Map(program.catalog.map((item) => [item.id, item]));
}

/** The exclusion groups (附件 说明4) an item belongs to. */
export function groupsOf(program: Program, catalogId: number): ExclusionGroup[] {
  return program.exclusionGroups.filter((group) => group.members.includes(catalogId));
}

/** Normalises a city input: `佛山`, `佛山市`, `440600`, `Foshan` (any case), surrounding spaces ignored. */
function cityKey(input: string): string {
  return input.trim().toLowerCase();
}

export function cityIndex(program: Program): Map<string, City> {
  const index = new Map<string, City>();
  for (const city of program.cities) {
    for (const key of [city.code, city.name, city.shortName, city.nameEn]) index.set(cityKey(key), city);
  }
  return index;
}

/**
 * Resolves a city given as name with or without 市 or as GB/T 2260 code (API.md), or null.
 * Ineligible cities (深圳) resolve too — eligibility is a rule decision, not a look-up failure.
 */
export function resolveCity(program: Program, input: string): City | null {
  if (typeof input !== 'string') return null;
  const key = cityKey(input);
  return program.cities.find((city) => [city.code, city.name, city.shortName, city.nameEn].some((k) => cityKey(k) === key)) ?? null;
}

/**
 * 附件 说明2: devices that must be connected at redemption = ceil(voucher ÷ per-device subsidy),
 * for the items whose 备注 names a per-device amount (#5, #24, #25 in 2020); null for others
 * and for unknown items. A voucher of 0 needs 0 devices.
 */
export function requiredDevices(program: Program, catalogId: number, voucherFen: number): number | null {
  const perDevice = getCatalogItem(program, catalogId)?.perDeviceFen;
  if (!perDevice) return null;
  return ceilDiv(voucherFen, perDevice.value);
}
