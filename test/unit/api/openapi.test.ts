import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateOpenApi } from '../../../src/api/openapi-document.js';
import { allRoutes } from '../../../src/api/routes/index.js';

describe('OpenAPI document', () => {
  it('matches the committed openapi.json (run `npm run openapi` after changing a schema)', () => {
    const committed = JSON.parse(readFileSync(new URL('../../../openapi.json', import.meta.url), 'utf8'));
    expect(generateOpenApi()).toEqual(committed);
  });

  it('documents every route, with its security and request body', () => {
    const doc = generateOpenApi() as { openapi: string; paths: Record<string, Record<string, any>> };
    expect(doc.openapi).toBe('3.1.0');
    for (const route of allRoutes) {
      const op = doc.paths[route.path]?.[route.method];
      expect(op, `${route.method} ${route.path}`).toBeDefined();
      expect(Boolean(op.security), `${route.path} security`).toBe(route.auth !== 'public');
      expect(Boolean(op.requestBody), `${route.path} body`).toBe(Boolean(route.body));
    }
    const evaluate = doc.paths['/v1/rules/evaluate']!.post;
    expect(evaluate.requestBody.content['application/json'].schema.properties.applications.type).toBe('array');
  });
});
