/**
 * Contract test of the InfluxDB 2.x writer against a RECORDED EXCHANGE — no InfluxDB 2 server
 * can run here. A node:http server on port 0 plays the server's side of the recorded
 * `/api/v2/write` exchange: it checks the path and query (org, bucket, precision), the
 * `Authorization: Token …` header and the line-protocol body against the fixture, and
 * answers 204 as InfluxDB 2.x does. The body is the 1.x store's line protocol (line-protocol.ts;
 * tags in the order device, contract, supplier — line protocol leaves tag order free).
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { createInflux2Writer } from '../../../src/telemetry/influx/influx2-writer.js';
import type { Heartbeat } from '../../../src/telemetry/types.js';

const fixture = JSON.parse(readFileSync(new URL('./fixtures/influx2-write-exchange.json', import.meta.url), 'utf8')) as {
  request: { method: string; path: string; query: Record<string, string>; authorization: string; contentType: string; body: string };
  response: { status: number };
};

const t = Date.UTC(2020, 9, 9, 0, 0, 0, 123); // 2020-10-09T08:00:00.123+08:00
const batch: Heartbeat[] = [
  { deviceId: 'dev0001', contractId: 'c1', supplierId: 's1', seq: 17, receivedAt: t, deviceTs: t - 250, status: 'running', metrics: { spindleRpm: 1200, temp: 36.5 }, source: '10.0.0.7', coincident: false },
  { deviceId: 'dev0001', contractId: 'c1', supplierId: 's1', seq: 18, receivedAt: t, source: '10.0.0.7', coincident: true },
  { deviceId: 'dev 2,x', contractId: 'c=2', supplierId: 's1', seq: 1_000_001, receivedAt: t + 60_000, status: 'idle', source: '10.0.0.8', coincident: false },
];

interface Captured { method: string; url: string; headers: IncomingMessage['headers']; body: string }

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

function replayServer(status: number): Promise<{ url: string; requests: Captured[] }> {
  const requests: Captured[] = [];
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let raw = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: raw.toString('utf8') });
      res.writeHead(status, status === 204 ? {} : { 'content-type': 'application/json' });
      res.end(status === 204 ? undefined : JSON.stringify({ code: 'invalid', message: 'recorded refusal' }));
    });
  });
  return new Promise((resolve) => server!.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, requests })));
}

describe('InfluxDB 2.x writer — recorded exchange, no InfluxDB 2 server here', () => {
  it('sends the recorded /api/v2/write request (org, bucket, ns precision, Token header, line protocol) and resolves on 204', async () => {
    const { url, requests } = await replayServer(fixture.response.status);
    const writer = await createInflux2Writer({ url, token: 'test-token-123', org: 'gateway-org', bucket: 'heartbeats' });
    await writer.write(batch);
    await writer.close();

    expect(requests).toHaveLength(1);
    const [req] = requests as [Captured];
    const parsed = new URL(req.url, 'http://x');
    expect(req.method).toBe(fixture.request.method);
    expect(parsed.pathname).toBe(fixture.request.path);
    expect(Object.fromEntries(parsed.searchParams)).toEqual(fixture.request.query);
    expect(req.headers.authorization).toBe(fixture.request.authorization);
    expect(req.headers['content-type']).toContain(fixture.request.contentType);
    expect(req.body).toBe(fixture.request.body);
  });

  it('rejects the write when the server refuses it (recorded 400), so no PUBACK would be sent', async () => {
    const { url } = await replayServer(400);
    const writer = await createInflux2Writer({ url, token: 'test-token-123', org: 'gateway-org', bucket: 'heartbeats', maxRetries: 0 });
    await expect(writer.write(batch)).rejects.toThrow();
    await writer.close().catch(() => undefined);
  });
});
