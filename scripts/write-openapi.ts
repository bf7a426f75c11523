/**
 * Writes openapi.json from the route schemas (`npm run openapi`). A test fails when the
 * committed document differs from what the schemas generate.
 */
import { writeFileSync } from 'node:fs';
import { generateOpenApi } from '../src/api/openapi-document.js';

writeFileSync(new URL('../openapi.json', import.meta.url), `${JSON.stringify(generateOpenApi(), null, 2)}\n`);
process.stdout.write('wrote openapi.json\n');
