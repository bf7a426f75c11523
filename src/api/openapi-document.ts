import { buildOpenApi } from './openapi.js';
import { allRoutes } from './routes/index.js';

/** The gateway's OpenAPI 3.1 document, generated from the route schemas. */
export function generateOpenApi(): Record<string, unknown> {
  return buildOpenApi(allRoutes, { title: 'Subsidy device-verification gateway', version: '1.0.0' });
}
