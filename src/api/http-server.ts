import http, { type RequestListener, type Server } from 'node:http';
import type { Metrics } from '../metrics.js';
import type { TrustedProxies } from '../trusted-proxies.js';

export interface HttpLimits {
  /** Open connections one address may hold; 0 = no cap. */
  maxConnectionsPerAddress: number;
  /** A request's headers must have arrived within this (slowloris). */
  headersTimeoutMs: number;
  /** A whole request (headers and body) must have arrived within this. */
  requestTimeoutMs: number;
}

/**
 * The HTTP server around the app, hardened against slow and piled-up connections (issue 15
 * point 7: 300 slow connections from one address were held open). Node checks the header and
 * request deadlines every `connectionsCheckingInterval` (30 s by default), so the interval is
 * tied to the header timeout; a connection over the per-address cap is closed at accept, before
 * a byte is parsed. A trusted proxy (GATEWAY_TRUSTED_PROXIES) carries every client's connections,
 * so it is not capped here: its own `maxconn` bounds it, and per-client limits use `req.ip`.
 */
export function createHttpServer(
  app: RequestListener,
  limits: Readonly<HttpLimits>,
  metrics: Pick<Metrics, 'httpConnectionsRefused'>,
  trustedProxies: TrustedProxies = () => false,
): Server {
  const server = http.createServer({
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 2))),
  }, app);
  if (limits.maxConnectionsPerAddress > 0) {
    const open = new Map<string, number>();
    server.on('connection', (socket) => {
      const address = socket.remoteAddress ?? 'unknown';
      if (trustedProxies(address)) return;
      const count = open.get(address) ?? 0;
      if (count >= limits.maxConnectionsPerAddress) {
        metrics.httpConnectionsRefused.inc({ reason: 'per-address-cap' });
        socket.destroy();
        return;
      }
      open.set(address, count + 1);
      socket.once('close', () => {
        const left = (open.get(address) ?? 1) - 1;
        if (left <= 0) open.delete(address);
        else open.set(address, left);
      });
    });
  }
  return server;
}

/**
 * `GATEWAY_METRICS_PORT`: Prometheus metrics without a key, on a listener of their own that an
 * operator keeps off the public network (SECURITY.md). It answers `GET /metrics` and nothing else.
 */
export function createMetricsServer(metrics: Pick<Metrics, 'registry' | 'httpConnectionsRefused'>, limits: Readonly<HttpLimits>): Server {
  return createHttpServer(
    (req, res) => {
      if (req.method !== 'GET' || req.url !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
        return;
      }
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n'),
      );
    },
    limits,
    metrics,
  );
}

/** Listens and resolves with the bound port (0 picks a free one). */
export function listenHttp(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}
