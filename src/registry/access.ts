import type { Principal } from './roles.js';

/**
 * The one place that decides what an API key may see (API.md, SPEC "API keys with roles").
 * admin and reviewer see everything; a supplier key sees only its own supplier, its own
 * contracts and their devices. Anything it may not see is reported as not found (404), never
 * as forbidden, so a supplier cannot probe which other contracts or devices exist.
 */
export function supplierScope(principal: Principal): string | undefined {
  return principal.role === 'supplier' ? (principal.supplierId ?? '\u0000no-supplier') : undefined;
}

export function canSeeSupplier(principal: Principal, supplierId: string): boolean {
  const scope = supplierScope(principal);
  return scope === undefined || scope === supplierId;
}

/** Contracts and devices alike carry the supplier they belong to. */
export function canSeeContract(principal: Principal, contract: { supplierId: string }): boolean {
  return canSeeSupplier(principal, contract.supplierId);
}

export function canSeeDevice(principal: Principal, device: { supplierId: string }): boolean {
  return canSeeSupplier(principal, device.supplierId);
}
