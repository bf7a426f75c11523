#!/usr/bin/env node
// `npx gateway …`: the reviewer CLI, run from the TypeScript sources through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
