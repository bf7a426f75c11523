import { sql } from 'kysely';
import { timingSafeEqual } from 'node:crypto';
import type { Principal, Role } from './roles.js';
import type { Migration } from '../db/sqlite.js';
import { AppError, badRequest } from '../errors.js';
import { toShanghaiIso } from '../time/shanghai.js';
import { SYSTEM_ACTOR, type Actor, type RegistryContext } from './context.js';
import { sha256 } from './devices.js';
import { newApiKey, newId } from './ids.js';
import { decodeCursor, pageLimit, toPage, type Page, type PageRequest } from './pagination.js';

/** An API key as listed: never the key itself, which exists only in the create response. */
export interface ApiKeyInfo {
  id: string;
  role: Role;
  supplierId: string | null;
  createdAt: string;
  revokedAt: string | null;
  /** When the key stops working; null = no expiry. */
  expiresAt: string | null;
}

export interface IssuedApiKey {
  id: string;
  /** `gk_` + 43 base64url chars (256 bits); shown this once, stored as SHA-256. */
  key: string;
  role: Role;
  supplierId: string | null;
  createdAt: string;
  expiresAt: string | null;
}

export interface ApiKeyInput {
  role: Role;
  /** Required for, and only for, the supplier role. */
  supplierId?: string;
  /** ISO instant after which the key is refused; must lie in the future. */
  expiresAt?: string;
}

export interface ApiKeys {
  create(input: ApiKeyInput, actor: Actor): Promise<IssuedApiKey>;
  get(id: string): Promise<ApiKeyInfo | undefined>;
  page(page?: PageRequest): Promise<Page<ApiKeyInfo>>;
  /**
   * Revokes the key; false when there is no such key. Revoking twice is a no-op. The last live
   * admin key is never revoked (409): nobody could issue or revoke keys afterwards.
   */
  revoke(id: string, actor: Actor): Promise<boolean>;
  /** The principal of a live key, or undefined. One indexed lookup by digest. */
  authenticate(key: string): Promise<Principal | undefined>;
  /**
   * Start-up: with a configured key (GATEWAY_ADMIN_KEY), makes sure an admin key with that
   * digest exists; a configured key that was revoked is refused (a revocation is never undone by
   * a restart), naming the way out. Without one, generates an admin key if no live admin key
   * exists and returns it — the only time it is ever visible.
   */
  bootstrapAdmin(configuredKey?: string): Promise<{ key?: string }>;
}

interface ApiKeyRow {
  rowid: number;
  id: string;
  key_sha256: Buffer;
  role: Role;
  supplier_id: string | null;
  created_at: number;
  revoked_at: number | null;
  expires_at: number | null;
}

/** Registry migration 5 (issue 15): optional expiry of API keys. */
export const apiKeyExpiryMigration: Migration = {
  version: 5,
  description: 'optional API key expiry',
  up: 'ALTER TABLE api_keys ADD COLUMN expires_at INTEGER',
};

function fromRow(row: ApiKeyRow): ApiKeyInfo {
  return {
    id: row.id,
    role: row.role,
    supplierId: row.supplier_id,
    createdAt: toShanghaiIso(row.created_at),
    revokedAt: row.revoked_at === null ? null : toShanghaiIso(row.revoked_at),
    expiresAt: row.expires_at === null ? null : toShanghaiIso(row.expires_at),
  };
}

const API_KEY_COLUMNS = sql.raw('rowid, id, key_sha256, role, supplier_id, created_at, revoked_at, expires_at');

export function createApiKeys(ctx: RegistryContext): ApiKeys {
  const { sql: db, clock, audit } = ctx;

  const rowById = (id: string) => db.one<ApiKeyRow>(sql`SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE id = ${id}`);
  const rowByDigest = (digest: Buffer) => db.one<ApiKeyRow>(sql`SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE key_sha256 = ${digest}`);
  // Live: not revoked and not expired at the given instant.
  const liveAdminOtherThan = async (id: string, at: number): Promise<boolean> =>
    (await db.one(
      sql`SELECT 1 AS one FROM api_keys
        WHERE role = 'admin' AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ${at}) AND id <> ${id} LIMIT 1`,
    )) !== undefined;

  const get = async (id: string): Promise<ApiKeyInfo | undefined> => {
    const row = await rowById(id);
    return row && fromRow(row);
  };

  const insertKey = async (
    key: string,
    role: Role,
    supplierId: string | null,
    expiresAt: number | null,
    actor: Actor,
    action: string,
  ): Promise<IssuedApiKey> => {
    const id = newId('key');
    const now = clock.now();
    await db.run(sql`INSERT INTO api_keys (id, key_sha256, role, supplier_id, created_at, expires_at)
      VALUES (${id}, ${sha256(key)}, ${role}, ${supplierId}, ${now}, ${expiresAt})`);
    await audit.append(actor, action, id, { role, supplierId, ...(expiresAt === null ? {} : { expiresAt: toShanghaiIso(expiresAt) }) });
    return { id, key, role, supplierId, createdAt: toShanghaiIso(now), expiresAt: expiresAt === null ? null : toShanghaiIso(expiresAt) };
  };

  return {
    create: (input, actor) =>
      db.transaction(async () => {
        if (input.role === 'supplier') {
          if (!input.supplierId) {
            throw badRequest('GW_ERR_REGISTRY_KEY_SUPPLIER', 'a supplier key needs supplierId', [
              { path: 'body.supplierId', message: 'required for role supplier' },
            ]);
          }
          if (!(await db.one(sql`SELECT 1 AS one FROM suppliers WHERE id = ${input.supplierId}`))) {
            throw badRequest('GW_ERR_REGISTRY_KEY_SUPPLIER', `no supplier ${input.supplierId}`, [
              { path: 'body.supplierId', message: `no supplier ${input.supplierId}` },
            ]);
          }
        } else if (input.supplierId !== undefined) {
          throw badRequest('GW_ERR_REGISTRY_KEY_SUPPLIER', `role ${input.role} is not bound to a supplier`, [
            { path: 'body.supplierId', message: 'only for role supplier' },
          ]);
        }
        const expiresAt = input.expiresAt === undefined ? null : Date.parse(input.expiresAt);
        if (expiresAt !== null && expiresAt <= clock.now()) {
          throw badRequest('GW_ERR_REGISTRY_KEY_EXPIRY', `expiresAt ${input.expiresAt} is not in the future`, [
            { path: 'body.expiresAt', message: 'must be in the future' },
          ]);
        }
        return insertKey(newApiKey(), input.role, input.supplierId ?? null, expiresAt, actor, 'api-key.create');
      }),

    get,

    async page(request) {
      const limit = pageLimit(request);
      const rows = await db.all<ApiKeyRow>(
        sql`SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE rowid > ${decodeCursor(request?.cursor)} ORDER BY rowid LIMIT ${limit + 1}`,
      );
      return toPage(rows, limit, fromRow);
    },

    revoke: (id, actor) =>
      db.transaction(async () => {
        const row = await rowById(id);
        if (!row) return false;
        if (row.role === 'admin' && row.revoked_at === null && !(await liveAdminOtherThan(id, clock.now()))) {
          throw new AppError('GW_ERR_REGISTRY_LAST_ADMIN_KEY', `${id} is the last live admin key; issue another admin key before revoking it`);
        }
        const changed = await db.run(sql`UPDATE api_keys SET revoked_at = ${clock.now()} WHERE id = ${id} AND revoked_at IS NULL`);
        if (changed > 0) await audit.append(actor, 'api-key.revoke', id, { role: row.role });
        return true;
      }),

    async authenticate(key) {
      const digest = sha256(key);
      const row = await rowByDigest(digest);
      // The lookup is by digest already; the constant-time compare keeps that a non-issue if
      // the lookup ever becomes a prefix or range scan.
      if (!row || !timingSafeEqual(row.key_sha256, digest) || row.revoked_at !== null) return undefined;
      if (row.expires_at !== null && row.expires_at <= clock.now()) return undefined;
      const expiresAt = row.expires_at === null ? null : toShanghaiIso(row.expires_at);
      return row.role === 'supplier' && row.supplier_id
        ? { keyId: row.id, role: row.role, supplierId: row.supplier_id, expiresAt }
        : { keyId: row.id, role: row.role, expiresAt };
    },

    bootstrapAdmin: (configuredKey) =>
      db.transaction(async () => {
        if (configuredKey !== undefined) {
          const row = await rowByDigest(sha256(configuredKey));
          if (!row) {
            await insertKey(configuredKey, 'admin', null, null, SYSTEM_ACTOR, 'api-key.bootstrap');
          } else if (row.role !== 'admin') {
            throw new AppError('GW_ERR_REGISTRY_ADMIN_KEY', `GATEWAY_ADMIN_KEY is registered as a ${row.role} key`);
          } else if (row.revoked_at !== null) {
            // A revocation is a decision (audited); a restart with the old value must not undo it.
            throw new AppError(
              'GW_ERR_REGISTRY_ADMIN_KEY_REVOKED',
              `GATEWAY_ADMIN_KEY is the admin key ${row.id}, revoked at ${toShanghaiIso(row.revoked_at)}; a revoked key is never reinstated. ` +
                'To recover, set GATEWAY_ADMIN_KEY to a new value (at least 16 characters; it becomes a new admin key), ' +
                'or unset it and use another live admin key (one is generated and printed if none is left).',
            );
          }
          return {};
        }
        if (await liveAdminOtherThan('', clock.now())) return {};
        const issued = await insertKey(newApiKey(), 'admin', null, null, SYSTEM_ACTOR, 'api-key.bootstrap');
        return { key: issued.key };
      }),
  };
}
