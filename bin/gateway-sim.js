#!/usr/bin/env node
// `npx gateway-sim …`: device fleet simulators (simulators/cli.ts), run from the TypeScript sources through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../simulators/cli.ts');
