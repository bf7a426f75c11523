import type { Client } from 'aedes';

/** Real client addresses of connections that came through a trusted proxy (broker/proxy-protocol.ts). */
const proxiedSources = new WeakMap<object, string>();

/** An address as the gateway stores it: IPv4-mapped IPv6 folded to IPv4. */
export function foldAddress(address: string | undefined): string {
  const a = address ?? 'unknown';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

/** Records the address a trusted proxy's PROXY header gave for this connection. */
export function setProxiedSource(conn: object, source: string): void {
  proxiedSources.set(conn, source);
}

/**
 * A client's address: the one its trusted proxy declared, else the TCP peer's. Evidence
 * `source`, address bans and the lock-step signal all come from here, so behind HAProxy they
 * see devices rather than the balancer.
 */
export function remoteAddress(client: Client): string {
  const conn = client.conn as { remoteAddress?: string };
  return proxiedSources.get(conn) ?? foldAddress(conn.remoteAddress);
}
