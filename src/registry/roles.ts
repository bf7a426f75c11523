import { z } from 'zod';

/** API key roles (SPEC "API keys with roles"): the one list; type, zod enum and SQL CHECK come from it. */
export const ROLES = ['admin', 'reviewer', 'supplier'] as const;
export type Role = (typeof ROLES)[number];
export const roleSchema = z.enum(ROLES);

/** Who is calling: resolved from the bearer API key by the registry. */
export interface Principal {
  keyId: string;
  role: Role;
  /** Set for supplier keys: the only supplier whose contracts and devices this key can see. */
  supplierId?: string;
  /** When the key stops working (ISO, +08:00); null for a key without expiry. */
  expiresAt?: string | null;
}
