import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { compileTrustedProxies } from '../../../src/trusted-proxies.js';

describe('GATEWAY_TRUSTED_PROXIES', () => {
  it('is empty by default: no peer may declare a client address', () => {
    const trusted = compileTrustedProxies(loadConfig({}).trustedProxies);
    for (const peer of ['127.0.0.1', '::1', '10.0.0.1']) expect(trusted(peer)).toBe(false);
  });

  it('takes IPv4 and IPv6 addresses and CIDRs, and matches IPv4-mapped peers', () => {
    const { trustedProxies } = loadConfig({ GATEWAY_TRUSTED_PROXIES: ' 127.0.0.1, 10.1.0.0/16,fd00::/8 ,::1' });
    expect(trustedProxies).toEqual(['127.0.0.1', '10.1.0.0/16', 'fd00::/8', '::1']);
    const trusted = compileTrustedProxies(trustedProxies);
    expect(['127.0.0.1', '::ffff:127.0.0.1', '10.1.255.3', 'fd12::7', '::1'].map(trusted)).toEqual([true, true, true, true, true]);
    expect(['127.0.0.2', '10.2.0.1', 'fe80::1', 'not-an-ip'].map(trusted)).toEqual([false, false, false, false]);
  });

  it('refuses a bad entry, naming it', () => {
    expect(() => loadConfig({ GATEWAY_TRUSTED_PROXIES: '127.0.0.1,10.0.0.0/40' })).toThrow(/GATEWAY_TRUSTED_PROXIES: "10.0.0.0\/40" is not an IP address or CIDR/);
    expect(() => loadConfig({ GATEWAY_TRUSTED_PROXIES: 'haproxy.local' })).toThrow(/"haproxy.local"/);
  });
});
