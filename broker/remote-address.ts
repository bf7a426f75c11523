import type { Client } from 'aedes';

/** The peer address of a client's connection, IPv4-mapped IPv6 folded to IPv4. */
export function remoteAddress(client: Client): string {
  const conn = client.conn as { remoteAddress?: string };
  const address = conn.remoteAddress ?? 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
