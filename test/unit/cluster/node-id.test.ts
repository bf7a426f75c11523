import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';

describe('GATEWAY_NODE_ID', () => {
  it('defaults to the host name and the pid, so two processes on one host differ', () => {
    expect(loadConfig({}).nodeId).toBe(`${hostname()}-${process.pid}`);
  });

  it('takes a given id, and refuses one with characters a log line or a URL would mangle', () => {
    expect(loadConfig({ GATEWAY_NODE_ID: 'gw-2.zone-a:1' }).nodeId).toBe('gw-2.zone-a:1');
    expect(() => loadConfig({ GATEWAY_NODE_ID: 'gw 2' })).toThrow(/GATEWAY_NODE_ID: letters, digits/);
    expect(() => loadConfig({ GATEWAY_NODE_ID: 'x'.repeat(201) })).toThrow(/GATEWAY_NODE_ID/);
  });
});
