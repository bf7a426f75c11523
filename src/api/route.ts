import type { Request, Response } from 'express';
import type { z } from 'zod';
import type { Principal, Role } from '../registry/index.js';

export type { Principal, Role };


export interface RouteContext<P, Q, B, D> {
  params: P;
  query: Q;
  body: B;
  /** null only on public routes. */
  principal: Principal | null;
  deps: D;
  req: Request;
  res: Response;
}

/** What a handler returns; `undefined` means it wrote the response itself (CSV, static files). */
/** A response body, never a promise: an un-awaited use-case would otherwise be sent as `{}`. */
type Body = string | number | boolean | null | (object & { then?: never });
export type RouteResult = { status: number; body?: Body; headers?: Record<string, string> } | undefined;

/**
 * One HTTP route, described once: the same zod schemas validate the request at run time,
 * type the handler, and generate the OpenAPI document (src/api/openapi.ts).
 */
export interface RouteSpec<P = unknown, Q = unknown, B = unknown, D = unknown> {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** OpenAPI-style path: `/v1/contracts/{id}`. */
  path: string;
  summary: string;
  tags: string[];
  /** Roles allowed, or 'public' for routes that need no key. */
  auth: readonly Role[] | 'public';
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  responses: Record<number, { description: string; schema?: z.ZodType; contentType?: string }>;
  handler(ctx: RouteContext<P, Q, B, D>): Promise<RouteResult> | RouteResult;
}

/** Identity function that infers the handler's types from the schemas. */
export function defineRoute<P = Record<string, never>, Q = Record<string, never>, B = undefined, D = unknown>(
  spec: RouteSpec<P, Q, B, D>,
): RouteSpec<P, Q, B, D> {
  return spec;
}

/** `/v1/contracts/{id}` → `/v1/contracts/:id` for Express. */
export function toExpressPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ':$1');
}

/** `defineRoute` with the dependencies' type fixed, so handlers see typed `deps` without casts. */
export function routesWith<D>() {
  return <P = Record<string, never>, Q = Record<string, never>, B = undefined>(spec: RouteSpec<P, Q, B, D>): RouteSpec<P, Q, B, D> =>
    spec;
}
