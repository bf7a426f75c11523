import { z } from 'zod';
import { ERROR_CATALOGUE } from '../errors.js';
import type { RouteSpec } from './route.js';

type JsonObject = Record<string, unknown>;

/**
 * OpenAPI 3.1 generated from the same zod schemas that validate requests (zod 4's native
 * JSON Schema output is draft 2020-12, which OpenAPI 3.1 uses). Schemas with a `.meta({ id })`
 * become shared components.
 */
export function buildOpenApi(routes: readonly RouteSpec<any, any, any, any>[], info: { title: string; version: string }): JsonObject {
  const components: Record<string, unknown> = {};
  const paths: Record<string, Record<string, unknown>> = {};
  // Every schema of one direction is converted in a single call, so a schema used by several
  // routes (named with .meta({ id }) or merely reused) becomes one shared component.
  const converted = {
    input: convertAll(routes.flatMap((r) => [r.params, r.query, r.body]), 'input', components),
    output: convertAll(routes.flatMap((r) => Object.values(r.responses).map((x) => x.schema)), 'output', components),
  };
  const toSchema = (schema: z.ZodType, io: 'input' | 'output'): unknown => converted[io].get(schema);

  for (const route of routes) {
    const operation: JsonObject = {
      operationId: `${route.method}${route.path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      summary: route.summary,
      tags: route.tags,
      parameters: [...parameters(route.params, 'path', toSchema), ...parameters(route.query, 'query', toSchema)],
      responses: Object.fromEntries(
        Object.entries(route.responses).map(([status, r]) => [
          status,
          {
            description: r.description,
            ...(r.schema ? { content: { [r.contentType ?? 'application/json']: { schema: toSchema(r.schema, 'output') } } } : {}),
          },
        ]),
      ),
    };
    if (route.body) {
      operation.requestBody = { required: true, content: { 'application/json': { schema: toSchema(route.body, 'input') } } };
    }
    if (route.auth !== 'public') {
      operation.security = [{ bearerAuth: [] }];
      operation['x-roles'] = route.auth;
      (operation.responses as JsonObject)['401'] ??= { description: 'missing or invalid API key', content: problemContent };
    }
    if (route.body || route.query || route.params) {
      (operation.responses as JsonObject)['400'] ??= { description: 'invalid request', content: problemContent };
    }
    (paths[route.path] ??= {})[route.method] = operation;
  }

  return {
    openapi: '3.1.0',
    info,
    paths,
    components: {
      schemas: Object.fromEntries(Object.entries({ ...components, Problem: problemSchema }).sort(([a], [b]) => a.localeCompare(b))),
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'API key' } },
      // The error catalogue (src/errors.ts): every `code` a problem+json can carry.
      'x-error-codes': ERROR_CATALOGUE,
    },
  };
}

/** RFC 9457 problem details; `code` is one of the error catalogue's codes (`x-error-codes`). */
const problemSchema = {
  type: 'object',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string', enum: Object.keys(ERROR_CATALOGUE) },
    errors: {
      type: 'array',
      items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } },
    },
  },
  required: ['type', 'title', 'status'],
};

const problemContent = { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } };

function parameters(
  schema: z.ZodType | undefined,
  where: 'path' | 'query',
  toSchema: (s: z.ZodType, io: 'input' | 'output') => unknown,
): unknown[] {
  if (!schema) return [];
  const json = toSchema(schema, 'input') as { properties?: Record<string, JsonObject>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || (json.required ?? []).includes(name),
    ...(typeof s.description === 'string' ? { description: s.description } : {}),
    schema: s,
  }));
}

function convertAll(
  schemas: readonly (z.ZodType | undefined)[],
  io: 'input' | 'output',
  components: Record<string, unknown>,
): Map<z.ZodType, unknown> {
  const unique = [...new Set(schemas.filter((s): s is z.ZodType => s !== undefined))];
  const bundle = z.object(Object.fromEntries(unique.map((s, i) => [`s${i}`, s])));
  const json = z.toJSONSchema(bundle, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as {
    properties: Record<string, unknown>;
    $defs?: Record<string, unknown>;
  };
  // Anonymous shared schemas are named __schemaN by zod; keep the two directions apart.
  const prefix = io === 'input' ? 'In' : 'Out';
  const rename = (text: string) =>
    text.replaceAll('"#/$defs/__schema', `"#/$defs/${prefix}Schema`).replaceAll('"#/$defs/', '"#/components/schemas/');
  for (const [id, def] of Object.entries(json.$defs ?? {})) {
    components[id.startsWith('__schema') ? `${prefix}Schema${id.slice(8)}` : id] = JSON.parse(rename(JSON.stringify(def)));
  }
  return new Map(unique.map((s, i) => [s, JSON.parse(rename(JSON.stringify(json.properties[`s${i}`])))]));
}
