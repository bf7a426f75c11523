import type { Request, RequestHandler, Router } from 'express';
import type { z } from 'zod';
import { AppError, type ErrorCode } from '../errors.js';
import { fieldErrors } from './problem.js';
import { toExpressPath, type Principal, type RouteSpec } from './route.js';

/** Resolves a bearer key to a principal; undefined when the key is unknown or disabled. */
export type Authenticator = (key: string) => Promise<Principal | undefined>;

/** Mounts route specs on an Express router: authenticate → validate path, query, body → handler. */
export function mountRoutes<D>(router: Router, routes: readonly RouteSpec<any, any, any, D>[], deps: D, authenticate: Authenticator): void {
  for (const route of routes) {
    router[route.method](toExpressPath(route.path), handlerFor(route, deps, authenticate));
  }
}

function handlerFor<D>(route: RouteSpec<any, any, any, D>, deps: D, authenticate: Authenticator): RequestHandler {
  return async (req, res) => {
    const principal = route.auth === 'public' ? null : await authorize(req, route.auth, authenticate);
    const params = parsePart(route.params, req.params, 'path');
    const query = parsePart(route.query, req.query, 'query');
    const body = parsePart(route.body, req.body, 'body');
    const result = await route.handler({ params, query, body, principal, deps, req, res });
    if (!result || res.headersSent) return;
    if (result.headers) res.set(result.headers);
    if (result.body === undefined) res.status(result.status).end();
    else res.status(result.status).json(result.body);
  };
}

async function authorize(req: Request, roles: readonly string[], authenticate: Authenticator): Promise<Principal> {
  const header = req.get('authorization');
  if (!header) throw new AppError('GW_ERR_AUTH_MISSING', 'missing Authorization: Bearer <api key> header');
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw new AppError('GW_ERR_AUTH_MALFORMED', 'Authorization header must be "Bearer <api key>"');
  const principal = await authenticate(match[1]!);
  if (!principal) throw new AppError('GW_ERR_AUTH_INVALID', 'unknown, revoked or expired API key');
  if (!roles.includes(principal.role)) {
    throw new AppError('GW_ERR_AUTH_FORBIDDEN', `role ${principal.role} may not ${req.method} ${req.path}`);
  }
  return principal;
}

const INVALID_PART = {
  path: 'GW_ERR_API_INVALID_PATH',
  query: 'GW_ERR_API_INVALID_QUERY',
  body: 'GW_ERR_API_INVALID_BODY',
} as const satisfies Record<string, ErrorCode>;

function parsePart<T>(schema: z.ZodType<T> | undefined, value: unknown, part: 'path' | 'query' | 'body'): T {
  if (!schema) return (part === 'body' ? undefined : {}) as T;
  const parsed = schema.safeParse(part === 'body' && value === undefined ? undefined : value);
  if (parsed.success) return parsed.data;
  throw new AppError(INVALID_PART[part], `invalid request ${part}`, {
    errors: fieldErrors(part, parsed.error),
  });
}
