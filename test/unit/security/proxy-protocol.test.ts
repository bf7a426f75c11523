import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { acceptProxied, parseProxyHeader, V2_MAX_PAYLOAD_BYTES, type ProxyHeaderFailure } from '../../../broker/proxy-protocol.js';
import { compileTrustedProxies } from '../../../src/trusted-proxies.js';

/** Written byte by byte from proxy-protocol.txt 2.2, independent of the library under test. */
const SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

function v2(command: 'LOCAL' | 'PROXY', family: 'TCP4' | 'TCP6' | 'UNSPEC', src?: number[], dst?: number[], extra = 0): Buffer {
  const verCmd = 0x20 | (command === 'PROXY' ? 1 : 0);
  const famProto = family === 'TCP4' ? 0x11 : family === 'TCP6' ? 0x21 : 0x00;
  const ports = Buffer.from([0xd4, 0x31, 0x07, 0x5b]); // 54321 → 1883
  const addresses = family === 'UNSPEC' ? Buffer.alloc(0) : Buffer.concat([Buffer.from(src!), Buffer.from(dst!), ports]);
  const payload = Buffer.concat([addresses, Buffer.alloc(extra)]);
  const length = Buffer.alloc(2);
  length.writeUInt16BE(payload.length);
  return Buffer.concat([SIGNATURE, Buffer.from([verCmd, famProto]), length, payload]);
}

const ipv6 = (hex: string) => [...Buffer.from(hex, 'hex')];
/** An MQTT PINGREQ: the bytes that follow the header must reach the broker exactly. */
const MQTT_BYTES = Buffer.from([0xc0, 0x00, 0x10, 0x02]);

interface Accepted {
  source: string;
  proxied: boolean;
  /** Everything the connection delivered after the header, up to the client's end. */
  rest: Promise<Buffer>;
}

/** A real TCP listener with the accept step, trusting the given list; records outcomes. */
async function listener(trusted: string[], timeoutMs = 400) {
  const accepted: Accepted[] = [];
  const refused: ProxyHeaderFailure[] = [];
  const server: Server = createServer(
    acceptProxied(
      { trusted: compileTrustedProxies(trusted), timeoutMs, onRefused: (failure) => refused.push(failure) },
      (socket: Socket, source, proxied) => {
        const parts: Buffer[] = [];
        // Read the way aedes does: paused mode, 'readable' then read().
        socket.on('readable', () => {
          let chunk: Buffer | null;
          while ((chunk = socket.read() as Buffer | null) !== null) parts.push(chunk);
        });
        accepted.push({ source, proxied, rest: once(socket, 'end').then(() => Buffer.concat(parts)) });
        socket.on('end', () => socket.end());
      },
    ),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { port: (server.address() as AddressInfo).port, accepted, refused };
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** Sends the chunks with pauses between them (so they arrive as separate reads), then ends. */
async function send(port: number, parts: Buffer[], options: { end?: boolean } = {}): Promise<{ closed: Promise<unknown> }> {
  const socket = connect({ port, host: '127.0.0.1', noDelay: true });
  socket.on('error', () => undefined);
  const closed = once(socket, 'close');
  await once(socket, 'connect');
  for (const part of parts) {
    socket.write(part);
    await sleep(15);
  }
  if (options.end !== false) socket.end();
  return { closed };
}

async function until<T>(read: () => T | undefined, timeoutMs = 2000): Promise<T> {
  for (let waited = 0; waited < timeoutMs; waited += 10) {
    const value = read();
    if (value !== undefined) return value;
    await sleep(10);
  }
  throw new Error('timed out');
}

describe('PROXY protocol at accept (real sockets)', () => {
  it('v2 TCP4 from a trusted peer: the declared client address, and the following bytes intact', async () => {
    const l = await listener(['127.0.0.1']);
    await send(l.port, [Buffer.concat([v2('PROXY', 'TCP4', [203, 0, 113, 7], [10, 0, 0, 1]), MQTT_BYTES])]);
    const a = await until(() => l.accepted[0]);
    expect(a).toMatchObject({ source: '203.0.113.7', proxied: true });
    expect(await a.rest).toEqual(MQTT_BYTES);
  });

  it('v2 TCP6: the IPv6 address in its compressed text form; an IPv4-mapped one folded to IPv4', async () => {
    const l = await listener(['127.0.0.0/8']);
    await send(l.port, [v2('PROXY', 'TCP6', ipv6('20010db8000000000000000000000005'), ipv6('20010db8000000000000000000000001'))]);
    await send(l.port, [v2('PROXY', 'TCP6', ipv6('00000000000000000000ffffc6336407'), ipv6('20010db8000000000000000000000001'))]);
    await until(() => (l.accepted.length === 2 ? true : undefined));
    expect(l.accepted.map((a) => a.source).sort()).toEqual(['198.51.100.7', '2001:db8::5']);
  });

  it('LOCAL (a HAProxy health check) and UNSPEC: the connection keeps the proxy’s own address', async () => {
    const l = await listener(['127.0.0.1']);
    await send(l.port, [v2('LOCAL', 'UNSPEC')]);
    await send(l.port, [v2('LOCAL', 'TCP4', [203, 0, 113, 9], [10, 0, 0, 1])]);
    await until(() => (l.accepted.length === 2 ? true : undefined));
    for (const a of l.accepted) expect(a).toMatchObject({ source: '127.0.0.1', proxied: false });
  });

  it('a header split over many TCP reads, with MQTT bytes in the last one', async () => {
    const l = await listener(['127.0.0.1']);
    const whole = Buffer.concat([v2('PROXY', 'TCP4', [192, 0, 2, 44], [10, 0, 0, 1]), MQTT_BYTES]);
    // Cuts inside the signature, at the length field, inside the addresses and across the end.
    const cuts = [3, 13, 15, 22, 29, whole.length];
    const parts = cuts.map((end, i) => whole.subarray(i === 0 ? 0 : cuts[i - 1], end));
    await send(l.port, parts);
    const a = await until(() => l.accepted[0]);
    expect(a.source).toBe('192.0.2.44');
    expect(await a.rest).toEqual(MQTT_BYTES);
    expect(l.refused).toEqual([]);
  });

  it('v1 text header: the client address; a v1 line with a bad address is refused', async () => {
    const l = await listener(['127.0.0.1']);
    await send(l.port, [Buffer.from('PROXY TCP4 198.51.100.20 10.0.0.1 40000 1883\r\n'), MQTT_BYTES]);
    const a = await until(() => l.accepted[0]);
    expect(a.source).toBe('198.51.100.20');
    expect(await a.rest).toEqual(MQTT_BYTES);
    await send(l.port, [Buffer.from('PROXY TCP4 999.1.1.1 10.0.0.1 40000 1883\r\n')]);
    expect(await until(() => l.refused[0])).toBe('proxy-header-invalid');
  });

  it('garbage from a trusted peer is refused and closed, never handed on', async () => {
    const l = await listener(['127.0.0.1']);
    const { closed } = await send(l.port, [MQTT_BYTES], { end: false });
    expect(await until(() => l.refused[0])).toBe('proxy-header-invalid');
    await closed;
    expect(l.accepted).toEqual([]);
  });

  it('a v2 header declaring more than the cap is refused before the rest arrives', async () => {
    const l = await listener(['127.0.0.1']);
    const oversized = v2('PROXY', 'TCP4', [203, 0, 113, 7], [10, 0, 0, 1], V2_MAX_PAYLOAD_BYTES);
    const { closed } = await send(l.port, [oversized.subarray(0, 16)], { end: false });
    expect(await until(() => l.refused[0])).toBe('proxy-header-invalid');
    await closed;
    expect(l.accepted).toEqual([]);
  });

  it('a trusted peer that stops mid-header is closed at the deadline', async () => {
    const l = await listener(['127.0.0.1'], 150);
    const { closed } = await send(l.port, [v2('PROXY', 'TCP4', [203, 0, 113, 7], [10, 0, 0, 1]).subarray(0, 20)], { end: false });
    await closed;
    expect(l.refused).toEqual(['proxy-header-timeout']);
    expect(l.accepted).toEqual([]);
  });

  it('an untrusted peer’s PROXY header is not read: its bytes go on as they are, with the peer’s own address', async () => {
    const l = await listener(['10.9.9.9', '2001:db8::/32']);
    const forged = Buffer.concat([v2('PROXY', 'TCP4', [203, 0, 113, 66], [10, 0, 0, 1]), MQTT_BYTES]);
    await send(l.port, [forged]);
    const a = await until(() => l.accepted[0]);
    expect(a).toMatchObject({ source: '127.0.0.1', proxied: false });
    expect(await a.rest).toEqual(forged);
  });
});

describe('parseProxyHeader', () => {
  it('asks for more while a prefix could still be a header, and rejects what cannot', () => {
    const header = v2('PROXY', 'TCP4', [203, 0, 113, 7], [10, 0, 0, 1]);
    for (let n = 1; n < header.length; n++) expect(parseProxyHeader(header.subarray(0, n))).toBe('more');
    expect(parseProxyHeader(header)).toEqual({ source: '203.0.113.7', headerBytes: header.length });
    expect(parseProxyHeader(Buffer.from('PROX'))).toBe('more');
    expect(parseProxyHeader(Buffer.from('PROXY TCP4 1.2.3.4'))).toBe('more');
    expect(parseProxyHeader(Buffer.from(`PROXY ${'x'.repeat(120)}`))).toBe('invalid');
    expect(parseProxyHeader(Buffer.from('GET / HTTP/1.1\r\n'))).toBe('invalid');
    // Version 1 in the v2 version nibble, and an unknown command.
    const badVersion = Buffer.from(header);
    badVersion[12] = 0x11;
    expect(parseProxyHeader(badVersion)).toBe('invalid');
    const badCommand = Buffer.from(header);
    badCommand[12] = 0x2f;
    expect(parseProxyHeader(badCommand)).toBe('invalid');
    // A length too short for the declared family.
    const short = Buffer.concat([header.subarray(0, 14), Buffer.from([0, 4]), Buffer.alloc(4)]);
    expect(parseProxyHeader(short)).toBe('invalid');
    expect(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n'))).toEqual({ source: undefined, headerBytes: 15 });
  });
});
