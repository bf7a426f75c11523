import proxyAddr from 'proxy-addr';

/** Whether a TCP peer is a load balancer whose word on the client's address is taken. */
export type TrustedProxies = (peerAddress: string) => boolean;

/**
 * GATEWAY_TRUSTED_PROXIES (src/config.ts) as a predicate. The matching is Express's own
 * (proxy-addr: IPv4 and IPv6 addresses, CIDRs, IPv4-mapped IPv6 folded), so the MQTT listeners'
 * PROXY header check and the API's `trust proxy` agree on every address. Empty: nobody.
 */
export function compileTrustedProxies(entries: readonly string[]): TrustedProxies {
  if (entries.length === 0) return () => false;
  const trust = proxyAddr.compile([...entries]);
  return (peerAddress) => trust(peerAddress, 0);
}

/** Why an entry of the list is unusable, or undefined when proxy-addr accepts it. */
export function trustedProxyEntryProblem(entry: string): string | undefined {
  try {
    proxyAddr.compile(entry);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
