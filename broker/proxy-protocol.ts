import ipaddr from 'ipaddr.js';
import { isIP, type Socket } from 'node:net';
import { AddressFamilyType, Command, V1ProxyProtocol, V2ProxyProtocol } from 'proxy-protocol-js';
import type { TrustedProxies } from '../src/trusted-proxies.js';
import { foldAddress } from './remote-address.js';

/**
 * The PROXY protocol (haproxy.org proxy-protocol.txt, versions 1 and 2) in front of the MQTT
 * listeners: HAProxy in `mode tcp` with `send-proxy-v2` opens each connection to a node with a
 * header naming the device's address. Only a peer in GATEWAY_TRUSTED_PROXIES is read this way;
 * anyone else's bytes go to aedes untouched, so a forged header is just a malformed MQTT packet.
 */
export type ProxyHeaderFailure = 'proxy-header-invalid' | 'proxy-header-timeout' | 'proxy-header-incomplete';

/** The v2 signature (proxy-protocol.txt 2.2). */
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
/** A v1 line is at most 107 bytes with its CRLF (proxy-protocol.txt 2.1). */
const V1_MAX_BYTES = 107;
/**
 * Address block plus TLVs. HAProxy's `send-proxy-v2` sends none beyond the addresses (36 bytes
 * for IPv6); its optional TLVs (ALPN, authority, unique id, SSL) stay far below this. A larger
 * declared length is refused rather than buffered.
 */
export const V2_MAX_PAYLOAD_BYTES = 1024;
const V2_FIXED_BYTES = 16;

/** What a complete header said: the client's address, or undefined for LOCAL/UNKNOWN (the proxy speaking for itself). */
export type ProxyHeader = { source: string | undefined; headerBytes: number };

/**
 * Parses a header at the start of `bytes`. Returns 'more' while the bytes could still become a
 * valid header, the header once complete, or 'invalid'.
 */
export function parseProxyHeader(bytes: Buffer): ProxyHeader | 'more' | 'invalid' {
  const probe = Math.min(bytes.length, V2_SIGNATURE.length);
  if (bytes.subarray(0, probe).equals(V2_SIGNATURE.subarray(0, probe))) return parseV2(bytes);
  const v1Probe = Math.min(bytes.length, V1_PREFIX.length);
  if (bytes.subarray(0, v1Probe).equals(V1_PREFIX.subarray(0, v1Probe))) return parseV1(bytes);
  return 'invalid';
}

function parseV2(bytes: Buffer): ProxyHeader | 'more' | 'invalid' {
  if (bytes.length < V2_FIXED_BYTES) return 'more';
  const payloadBytes = bytes.readUInt16BE(14);
  if (payloadBytes > V2_MAX_PAYLOAD_BYTES) return 'invalid';
  const headerBytes = V2_FIXED_BYTES + payloadBytes;
  if (bytes.length < headerBytes) return 'more';
  let header: V2ProxyProtocol;
  try {
    header = V2ProxyProtocol.parse(new Uint8Array(bytes.subarray(0, headerBytes)));
  } catch {
    return 'invalid';
  }
  // LOCAL: a health check or the proxy's own connection; UNSPEC and UNIX carry no IP address.
  // Either way the receiver uses the connection's own endpoints (proxy-protocol.txt 2.2).
  if (header.command === Command.LOCAL) return { source: undefined, headerBytes };
  if (header.addressFamilyType !== AddressFamilyType.INET && header.addressFamilyType !== AddressFamilyType.INET6) {
    return { source: undefined, headerBytes };
  }
  const { sourceAddress } = header.proxyAddress as unknown as { sourceAddress: { address: number[] } };
  return { source: canonical(ipaddr.fromByteArray(sourceAddress.address)), headerBytes };
}

function parseV1(bytes: Buffer): ProxyHeader | 'more' | 'invalid' {
  const end = bytes.indexOf('\r\n', 0, 'latin1');
  if (end < 0) return bytes.length >= V1_MAX_BYTES ? 'invalid' : 'more';
  const headerBytes = end + 2;
  if (headerBytes > V1_MAX_BYTES) return 'invalid';
  const line = bytes.toString('latin1', 0, headerBytes);
  if (line.startsWith('PROXY UNKNOWN')) return { source: undefined, headerBytes };
  let header: V1ProxyProtocol;
  try {
    header = V1ProxyProtocol.parse(line);
  } catch {
    return 'invalid';
  }
  // The library matches the line's shape only; the address must really be one of its family.
  const family = String(header.inetProtocol) === 'TCP4' ? 4 : 6;
  if (isIP(header.source.ipAddress) !== family) return 'invalid';
  return { source: canonical(ipaddr.parse(header.source.ipAddress)), headerBytes };
}

/** The same text the gateway gets from a direct connection: IPv4-mapped IPv6 folded, IPv6 compressed. */
function canonical(address: ipaddr.IPv4 | ipaddr.IPv6): string {
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) return (address as ipaddr.IPv6).toIPv4Address().toString();
  return address.toString();
}

/**
 * Reads a PROXY header off the start of a socket that nothing else reads yet, puts back what
 * follows it (`unshift`), then calls `done`. The wait is bounded by `timeoutMs`, the header's
 * size by V1_MAX_BYTES / V2_MAX_PAYLOAD_BYTES; on any failure the socket is left to the caller
 * to destroy.
 */
export function readProxyHeader(
  socket: Socket,
  timeoutMs: number,
  done: (result: { source: string | undefined } | { failure: ProxyHeaderFailure }) => void,
): void {
  let buffered: Buffer = Buffer.alloc(0);
  let finished = false;
  const finish = (result: { source: string | undefined } | { failure: ProxyHeaderFailure }, rest?: Buffer) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    socket.off('readable', onReadable);
    socket.off('end', onEnd);
    socket.off('close', onEnd);
    if (rest && rest.length > 0) socket.unshift(rest);
    done(result);
  };
  const onReadable = () => {
    let chunk: Buffer | null;
    while (!finished && (chunk = socket.read() as Buffer | null) !== null) {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      const parsed = parseProxyHeader(buffered);
      if (parsed === 'more') continue;
      if (parsed === 'invalid') return finish({ failure: 'proxy-header-invalid' });
      finish({ source: parsed.source }, buffered.subarray(parsed.headerBytes));
    }
  };
  const onEnd = () => finish({ failure: 'proxy-header-incomplete' });
  const timer = setTimeout(() => finish({ failure: 'proxy-header-timeout' }), timeoutMs);
  // Errors before the header is complete end here; the caller's handlers take over after.
  socket.on('error', () => undefined);
  socket.on('readable', onReadable);
  socket.on('end', onEnd);
  socket.on('close', onEnd);
}

/**
 * A listener's accept step: a trusted proxy's connection passes `next` once its header is read,
 * with the client's address (the proxy's own for LOCAL); any other peer passes at once with its
 * own address. A trusted peer that sends no valid header in time is refused and counted.
 */
export function acceptProxied(
  options: { trusted: TrustedProxies; timeoutMs: number; onRefused: (failure: ProxyHeaderFailure, peer: string) => void },
  next: (socket: Socket, source: string, proxied: boolean) => void,
): (socket: Socket) => void {
  return (socket) => {
    const peer = foldAddress(socket.remoteAddress);
    if (!options.trusted(peer)) return next(socket, peer, false);
    readProxyHeader(socket, options.timeoutMs, (result) => {
      if ('failure' in result) {
        options.onRefused(result.failure, peer);
        socket.destroy();
        return;
      }
      next(socket, result.source ?? peer, result.source !== undefined);
    });
  };
}
