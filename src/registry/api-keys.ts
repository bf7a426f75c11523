import { timingSafeEqual } from 'node:crypto';
import type { Principal, Role } from './roles.js';
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
}

export interface IssuedApiKey {
  id: string;
  /** `gk_` + 43 base64url chars (256 bits); shown this once, stored as SHA-256. */
  key: string;
  role: Role;
  supplierId: string | null;
  createdAt: string;
}

export interface ApiKeyInput {
  role: Role;
  /** Required for, and only for, the supplier role. */
  supplierId?: string;
}

export interface ApiKeys {
  create(input: ApiKeyInput, actor: Actor): IssuedApiKey;
  get(id: string): ApiKeyInfo | undefined;
  page(page?: PageRequest): Page<ApiKeyInfo>;
  /** Revokes the key; false when there is no such key. Revoking twice is a no-op. */
  revoke(id: string, actor: Actor): boolean;
  /** The principal of a live key, or undefined. One indexed lookup by digest. */
  authenticate(key: string): Principal | undefined;
  /**
   * Start-up: with a configured key (GATEWAY_ADMIN_KEY), makes sure an admin key with that
   * digest exists and is live. Without one, generates an admin key if no live admin key exists
   * and returns it — the only time it is ever visible.
   */
  bootstrapAdmin(configuredKey?: string): { key?: string };
}

interface ApiKeyRow {
  rowid: number;
  id: string;
  key_sha256: Buffer;
  role: Role;
  supplier_id: string | null;
  created_at: number;
  revoked_at: number | null;
}

function fromRow(row: ApiKeyRow): ApiKeyInfo {
  return {
    id: row.id,
    role: row.role,
    supplierId: row.supplier_id,
    createdAt: toShanghaiIso(row.created_at),
    revokedAt: row.revoked_at === null ? null : toShanghaiIso(row.revoked_at),
  };
}

export function createApiKeys(ctx: RegistryContext): ApiKeys {
  const { db, clock, audit } = ctx;
  const insert = db.prepare('INSERT INTO api_keys (id, key_sha256, role, supplier_id, created_at) VALUES (?, ?, ?, ?, ?)');
  const byId = db.prepare('SELECT rowid, * FROM api_keys WHERE id = ?');
  const byDigest = db.prepare('SELECT rowid, * FROM api_keys WHERE key_sha256 = ?');
  const page = db.prepare('SELECT rowid, * FROM api_keys WHERE rowid > ? ORDER BY rowid LIMIT ?');
  const revoke = db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');
  const reinstate = db.prepare('UPDATE api_keys SET revoked_at = NULL WHERE id = ?');
  const liveAdmin = db.prepare("SELECT 1 FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL LIMIT 1");
  const supplierExists = db.prepare('SELECT 1 FROM suppliers WHERE id = ?');

  const get = (id: string): ApiKeyInfo | undefined => {
    const row = byId.get(id) as ApiKeyRow | undefined;
    return row && fromRow(row);
  };

  const insertKey = (key: string, role: Role, supplierId: string | null, actor: Actor, action: string): IssuedApiKey => {
    const id = newId('key');
    const now = clock.now();
    insert.run(id, sha256(key), role, supplierId, now);
    audit.append(actor, action, id, { role, supplierId });
    return { id, key, role, supplierId, createdAt: toShanghaiIso(now) };
  };

  return {
    create: (input, actor) =>
      db.transaction(() => {
        if (input.role === 'supplier') {
          if (!input.supplierId) {
            throw badRequest('GW_ERR_REGISTRY_KEY_SUPPLIER', 'a supplier key needs supplierId', [
              { path: 'body.supplierId', message: 'required for role supplier' },
            ]);
          }
          if (!supplierExists.get(input.supplierId)) {
            throw badRequest('GW_ERR_REGISTRY_KEY_SUPPLIER', `no supplier ${input.supplierId}`, [
              { path: 'body.supplierId', message: `no supplier ${input.supplierId}` },
            ]);
          }
        } else if (input.supplierId !== undefined) {
          throw badRequest('GW_ERR_REGISTRY_KEY_SUPPLIER', `role ${input.role} is not bound to a supplier`, [
            { path: 'body.supplierId', message: 'only for role supplier' },
          ]);
        }
        return insertKey(newApiKey(), input.role, input.supplierId ?? null, actor, 'api-key.create');
      })(),

    get,

    page(request) {
      const limit = pageLimit(request);
      const rows = page.all(decodeCursor(request?.cursor), limit + 1) as ApiKeyRow[];
      return toPage(rows, limit, fromRow);
    },

    revoke: (id, actor) =>
      db.transaction(() => {
        const row = byId.get(id) as ApiKeyRow | undefined;
        if (!row) return false;
        if (revoke.run(clock.now(), id).changes > 0) audit.append(actor, 'api-key.revoke', id, { role: row.role });
        return true;
      })(),

    authenticate(key) {
      const digest = sha256(key);
      const row = byDigest.get(digest) as ApiKeyRow | undefined;
      // The lookup is by digest already; the constant-time compare keeps that a non-issue if
      // the lookup ever becomes a prefix or range scan.
      if (!row || !timingSafeEqual(row.key_sha256, digest) || row.revoked_at !== null) return undefined;
      return row.role === 'supplier' && row.supplier_id
        ? { keyId: row.id, role: row.role, supplierId: row.supplier_id }
        : { keyId: row.id, role: row.role };
    },

    bootstrapAdmin: (configuredKey) =>
      db.transaction(() => {
        if (configuredKey !== undefined) {
          const row = byDigest.get(sha256(configuredKey)) as ApiKeyRow | undefined;
          if (!row) {
            insertKey(configuredKey, 'admin', null, SYSTEM_ACTOR, 'api-key.bootstrap');
          } else if (row.role !== 'admin') {
            throw new AppError('GW_ERR_REGISTRY_ADMIN_KEY', `GATEWAY_ADMIN_KEY is registered as a ${row.role} key`);
          } else if (row.revoked_at !== null) {
            // The operator configured this key, so it is meant to work; reinstating is recorded.
            reinstate.run(row.id);
            audit.append(SYSTEM_ACTOR, 'api-key.reinstate', row.id, { reason: 'configured as GATEWAY_ADMIN_KEY' });
          }
          return {};
        }
        if (liveAdmin.get()) return {};
        const issued = insertKey(newApiKey(), 'admin', null, SYSTEM_ACTOR, 'api-key.bootstrap');
        return { key: issued.key };
      })(),
  };
}
