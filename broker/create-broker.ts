import { Aedes, type Client } from 'aedes';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../src/clock.js';
import type { HeartbeatPipeline, IngestContext } from '../src/ingest/pipeline.js';
import { createSeqSession } from '../src/ingest/session.js';
import type { Logger } from '../src/log.js';
import type { Metrics } from '../src/metrics.js';
import { createAuthenticate } from './authenticate.js';
import { createAuthorizePublish } from './authorize-publish.js';
import { createAuthorizeSubscribe } from './authorize-subscribe.js';
import type { ConnectionLog, DeviceDirectory } from './device-directory.js';
import { remoteAddress } from './remote-address.js';
import { MAX_TOPIC_LEVELS } from './topics.js';

export interface BrokerDeps {
  clock: Clock;
  directory: DeviceDirectory;
  connections: ConnectionLog;
  pipeline: HeartbeatPipeline;
  metrics: Metrics;
  log: Logger;
  /** Decides at TCP accept / CONNECT time whether an address may connect (flood control). */
  admitConnection?: (source: string) => boolean;
}

export interface BrokerOptions {
  connectTimeoutMs?: number;
  drainTimeoutMs?: number;
  keepaliveLimitS?: number;
}

export interface GatewayBroker {
  aedes: Aedes;
  listen(host: string, port: number, tls?: { port: number; certFile: string; keyFile: string }): Promise<{ port: number; tlsPort?: number }>;
  close(): Promise<void>;
}

/** Builds the aedes broker with the gateway's hooks; `listen` starts the TCP (and TLS) listeners. */
export async function createGatewayBroker(deps: BrokerDeps, options: BrokerOptions = {}): Promise<GatewayBroker> {
  const { clock, directory, connections, metrics, log } = deps;
  const contexts = new WeakMap<Client, IngestContext>();
  let aedesRef: Aedes | undefined;

  const authenticate = createAuthenticate({
    directory,
    connections,
    clock,
    metrics,
    log,
    onAuthenticated(client, deviceId) {
      const facts = directory.facts(deviceId);
      if (!facts) return;
      const source = remoteAddress(client);
      // A second CONNECT with a connected client id takes the session over [MQTT-3.1.4-2].
      const previous = (aedesRef as unknown as { clients: Record<string, Client> } | undefined)?.clients[deviceId];
      if (previous && previous !== client) {
        connections.recordConnection({ deviceId, at: clock.now(), kind: 'takeover', source });
      }
      contexts.set(client, { ...facts, source, session: createSeqSession() });
    },
  });

  const aedes = await Aedes.createBroker({
    authenticate,
    authorizePublish: createAuthorizePublish({ pipeline: deps.pipeline, contextOf: (c) => contexts.get(c), metrics, log }),
    authorizeSubscribe: createAuthorizeSubscribe({ metrics }),
    preConnect(client, _packet, done) {
      const source = remoteAddress(client);
      done(null, deps.admitConnection ? deps.admitConnection(source) : true);
    },
    maxTopicLevels: MAX_TOPIC_LEVELS,
    connectTimeout: options.connectTimeoutMs ?? 10_000,
    drainTimeout: options.drainTimeoutMs ?? 30_000,
    keepaliveLimit: options.keepaliveLimitS ?? 3600,
    maxClientsIdLength: 64,
    // Heartbeats never fan out to subscribers; the in-broker $SYS beat is not needed.
    heartbeatInterval: 24 * 3600_000,
  });
  aedesRef = aedes;

  aedes.on('client', (client) => {
    metrics.mqttConnections.inc();
    const ctx = contexts.get(client);
    if (ctx) connections.recordConnection({ deviceId: ctx.deviceId, at: clock.now(), kind: 'connect', source: ctx.source });
  });
  aedes.on('clientDisconnect', (client) => {
    metrics.mqttConnections.dec();
    const ctx = contexts.get(client);
    if (ctx) connections.recordConnection({ deviceId: ctx.deviceId, at: clock.now(), kind: 'disconnect', source: ctx.source });
  });
  aedes.on('clientError', (client, err) => {
    log.debug({ clientId: client?.id, err: err.message }, 'client error');
  });
  aedes.on('connectionError', (client, err) => {
    log.debug({ clientId: client?.id, err: err.message }, 'connection error');
  });

  const servers: Server[] = [];

  return {
    aedes,
    async listen(host, port, tls) {
      const plain = createServer(aedes.handle);
      servers.push(plain);
      const boundPort = await listenOn(plain, host, port);
      let tlsPort: number | undefined;
      if (tls) {
        const secure = createTlsServer({ cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) }, aedes.handle);
        servers.push(secure as unknown as Server);
        tlsPort = await listenOn(secure as unknown as Server, host, tls.port);
      }
      return tlsPort === undefined ? { port: boundPort } : { port: boundPort, tlsPort };
    },
    async close() {
      // Stop accepting first; a server's close callback waits for its open sockets, which
      // aedes.close() ends by closing every client.
      const stopped = servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await Promise.all(stopped);
    },
  };
}

function listenOn(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
