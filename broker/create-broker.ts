import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../src/clock.js';
import type { AdmitHeartbeat, IngestContext } from '../src/services/admit-heartbeat.js';
import type { SessionCoordinator } from '../src/services/device-sessions.js';
import { EDGE_MAX_PACKET_BYTES, type EdgeLiveStatus, type EdgeSession } from '../src/edge/index.js';
import { createSeqSession } from '../src/ingest/session.js';
import type { Logger } from '../src/log.js';
import type { Metrics } from '../src/metrics.js';
import type { TrustedProxies } from '../src/trusted-proxies.js';
import { createAuthenticate, refuseBannedDevice } from './authenticate.js';
import { createAuthorizePublish } from './authorize-publish.js';
import { createAuthorizeSubscribe } from './authorize-subscribe.js';
import type { ConnectionLog, DeviceDirectory } from './device-directory.js';
import type { FloodControl } from './flood-control.js';
import { guardConnection } from './packet-guard.js';
import { acceptProxied } from './proxy-protocol.js';
import { foldAddress, remoteAddress, setProxiedSource } from './remote-address.js';
import { loggedId, MAX_CLIENT_ID_LENGTH, MAX_TOPIC_LEVELS } from './topics.js';

export interface BrokerDeps {
  clock: Clock;
  directory: DeviceDirectory;
  connections: ConnectionLog;
  admitHeartbeat: AdmitHeartbeat;
  metrics: Metrics;
  log: Logger;
  /** Decides at TCP accept whether an address may open another connection now (a token bucket). */
  admitConnection?: (source: string) => boolean;
  /** Per-device flapping bans (broker/flood-control.ts); address admission goes through `admitConnection`. */
  flapping?: Pick<FloodControl, 'deviceBanned' | 'recordDeviceConnect'>;
  /** Edge nodes (issue 20): which client ids are edge nodes, and a session for each of their connections. */
  edge?: {
    isEdgeNode(clientId: string): boolean;
    open(edgeNodeId: string, source: string): Promise<EdgeSession | undefined>;
  };
  /** Address bans from failed authentications, which a correct token passes (broker/flood-control.ts). */
  authFailures?: Pick<FloodControl, 'addressBanned' | 'recordAuthFailure' | 'admitAuthFailedEvidence'>;
  /** Peers whose PROXY protocol header names the client (GATEWAY_TRUSTED_PROXIES); default nobody. */
  trustedProxies?: TrustedProxies;
  /** One session per device across nodes (PostgreSQL registry; src/services/device-sessions.ts); unset on one node. */
  sessions?: Pick<SessionCoordinator, 'open' | 'closed'>;
}

/** The broker's limits; their defaults live in src/config.ts (GATEWAY_MQTT_*). */
export interface BrokerOptions {
  connectTimeoutMs: number;
  drainTimeoutMs: number;
  /** Largest remaining length a packet header may declare (broker/packet-guard.ts). */
  maxPacketBytes: number;
}

export interface GatewayBroker {
  aedes: Aedes;
  listen(host: string, port: number, tls?: { port: number; certFile: string; keyFile: string }): Promise<{ port: number; tlsPort?: number }>;
  /** Closes the live session of a device, if any (after a token rotation or when it is disabled). */
  disconnect(deviceId: string): boolean;
  /** Live Sparkplug state of an edge node's connection (not connected when it has none). */
  edgeStatus(edgeNodeId: string): EdgeLiveStatus;
  close(): Promise<void>;
}

/** Builds the aedes broker with the gateway's hooks; `listen` starts the TCP (and TLS) listeners. */
export async function createGatewayBroker(deps: BrokerDeps, options: Readonly<BrokerOptions>): Promise<GatewayBroker> {
  const { clock, directory, metrics, log } = deps;
  // The connection log writes to the database from event handlers: a full or read-only disk
  // must cost the evidence row, never crash the broker with an exception thrown in an emitter.
  const connections: ConnectionLog = {
    recordConnection(event) {
      try {
        deps.connections.recordConnection(event);
      } catch (err) {
        log.error({ err, deviceId: event.deviceId, kind: event.kind }, 'connection event not recorded');
      }
    },
    countRejection: (deviceId, atMs, reason) => deps.connections.countRejection(deviceId, atMs, reason),
  };
  const contexts = new WeakMap<Client, IngestContext>();
  const edgeSessions = new WeakMap<Client, { session: EdgeSession; source: string }>();
  /** Each connection's packet guard, so an authenticated edge node may send larger batches. */
  const guards = new WeakMap<object, ReturnType<typeof guardConnection>>();
  let aedesRef: Aedes | undefined;

  const authenticate = createAuthenticate({
    directory,
    connections,
    clock,
    metrics,
    log,
    ...(deps.authFailures ? { authFailures: deps.authFailures } : {}),
    async onAuthenticated(client, deviceId) {
      if (deps.edge?.isEdgeNode(deviceId)) return openEdge(client, deviceId);
      const facts = await directory.facts(deviceId);
      if (!facts) return;
      const source = remoteAddress(client);
      // A second CONNECT with a connected client id takes the session over [MQTT-3.1.4-2].
      const previous = (aedesRef as unknown as { clients: Record<string, Client> } | undefined)?.clients[deviceId];
      if (previous && previous !== client) {
        connections.recordConnection({ deviceId, at: clock.now(), kind: 'takeover', source });
      }
      // Across nodes, another node's session of this device is closed by that node (its notice).
      const sessionEpoch = deps.sessions && (await deps.sessions.open(deviceId, source, () => closeIfOpen(client)));
      if (sessionEpoch !== undefined && client.closed) deps.sessions!.closed(deviceId, sessionEpoch); // aedes will not register it
      contexts.set(client, { ...facts, source, session: createSeqSession(), ...(sessionEpoch === undefined ? {} : { sessionEpoch }) });
      deps.flapping?.recordDeviceConnect(deviceId);
    },
  });

  async function openEdge(client: Client, edgeNodeId: string): Promise<void> {
    const source = remoteAddress(client);
    const session = await deps.edge?.open(edgeNodeId, source);
    if (!session) return;
    const previous = (aedesRef as unknown as { clients: Record<string, Client> } | undefined)?.clients[edgeNodeId];
    if (previous && previous !== client) connections.recordConnection({ deviceId: edgeNodeId, at: clock.now(), kind: 'takeover', source });
    edgeSessions.set(client, { session, source });
    guards.get((client as unknown as { conn: object }).conn)?.setLimit(EDGE_MAX_PACKET_BYTES);
    deps.flapping?.recordDeviceConnect(edgeNodeId);
  }

  // A device banned for flapping is refused before its token is even checked; the ban itself
  // only ever starts from authenticated CONNECTs (flood-control.ts).
  const guardedAuthenticate: typeof authenticate = (client, username, password, done) => {
    if (deps.flapping?.deviceBanned(client.id)) return refuseBannedDevice(client, { metrics, log }, done);
    authenticate(client, username, password, done);
  };

  const aedes = await Aedes.createBroker({
    authenticate: guardedAuthenticate,
    authorizePublish: createAuthorizePublish({
      admitHeartbeat: deps.admitHeartbeat,
      contextOf: (c) => contexts.get(c),
      edgeOf: (c) => edgeSessions.get(c)?.session,
      metrics,
      log,
    }),
    authorizeSubscribe: createAuthorizeSubscribe({ metrics, ...(deps.edge ? { isEdgeNode: deps.edge.isEdgeNode } : {}) }),
    // Address admission happens at TCP accept (handleConnection), before aedes reads a byte.
    // aedes limits client ids only for MQTT 3.1; ours are device ids of at most 64 characters,
    // so a longer one is refused here, before authentication and before anything logs it.
    preConnect(client, packet, done) {
      const length = packet.clientId?.length ?? 0;
      if (length <= MAX_CLIENT_ID_LENGTH) return done(null, true);
      metrics.mqttConnectionsRefused.inc({ reason: 'client-id-too-long' });
      log.warn({ clientId: loggedId(packet.clientId), length, source: remoteAddress(client) }, 'MQTT CONNECT refused: client id too long');
      // CONNACK 2 "identifier rejected", then close [MQTT-3.1.3-9]: a fixed four-byte packet.
      const conn = client.conn as unknown as { end(b: Buffer): void };
      conn.end(Buffer.from([0x20, 0x02, 0x00, 0x02]));
      done(Object.assign(new Error('client id too long'), { errorCode: 2 }), false);
    },
    maxTopicLevels: MAX_TOPIC_LEVELS,
    connectTimeout: options.connectTimeoutMs,
    drainTimeout: options.drainTimeoutMs,
    // [MQTT-3.1.2-24]: a client may ask for up to an hour between packets.
    keepaliveLimit: 3600,
    maxClientsIdLength: 64,
    // Heartbeats never fan out to subscribers; the in-broker $SYS beat is not needed.
    heartbeatInterval: 24 * 3600_000,
  });
  aedesRef = aedes;

  aedes.on('client', (client) => {
    metrics.mqttConnections.inc();
    const ctx = contexts.get(client) ?? edgeSessions.get(client);
    if (ctx) connections.recordConnection({ deviceId: client.id, at: clock.now(), kind: 'connect', source: ctx.source });
  });
  aedes.on('clientDisconnect', (client) => {
    metrics.mqttConnections.dec();
    const edge = edgeSessions.get(client);
    edge?.session.closed();
    const device = contexts.get(client);
    const ctx = device ?? edge;
    if (ctx) connections.recordConnection({ deviceId: client.id, at: clock.now(), kind: 'disconnect', source: ctx.source });
    if (device?.sessionEpoch !== undefined) deps.sessions?.closed(client.id, device.sessionEpoch);
  });
  aedes.on('clientError', (client, err) => {
    log.debug({ clientId: loggedId(client?.id), err: err.message.slice(0, 200) }, 'client error');
  });
  aedes.on('connectionError', (client, err) => {
    log.debug({ clientId: loggedId(client?.id), err: err.message.slice(0, 200) }, 'connection error');
  });

  const servers: Server[] = [];
  const { maxPacketBytes } = options;

  /**
   * A connection with its client's address: the TCP peer's, or the one a trusted proxy's
   * PROXY header declared. Address admission, aedes, then the packet guard on the same socket;
   * the header is consumed before either reads, so the guard counts MQTT bytes only.
   */
  const handleConnection = (socket: Socket, source: string, proxied: boolean) => {
    if (proxied) setProxiedSource(socket, source);
    if (deps.admitConnection && !deps.admitConnection(source)) {
      // The address's connection bucket is empty: closed before a byte is read, no ban; the
      // device's next attempt finds a token (flood-control.ts).
      metrics.mqttConnectionsRefused.inc({ reason: 'rate-limited' });
      socket.on('error', () => undefined);
      socket.destroy();
      return;
    }
    aedes.handle(socket);
    const guard = guardConnection(socket, maxPacketBytes, (violation, declared) => {
      metrics.mqttConnectionsRefused.inc({ reason: violation });
      log.warn({ source, violation, declared, maxPacketBytes }, 'MQTT connection closed by the packet guard');
    });
    guards.set(socket, guard);
  };
  // A trusted proxy that sends no header within the CONNECT deadline, or a broken one, is closed
  // and counted: nothing it sent reaches aedes.
  const proxyOptions = {
    trusted: deps.trustedProxies ?? (() => false),
    timeoutMs: options.connectTimeoutMs,
    onRefused: (failure: string, peer: string) => {
      metrics.mqttConnectionsRefused.inc({ reason: failure });
      log.warn({ peer, failure }, 'connection from a trusted proxy closed: no valid PROXY header');
    },
  };

  /**
   * TLS behind a TCP proxy: HAProxy's header precedes the TLS handshake, so the listener is a
   * plain TCP one that reads the header and then hands the socket to the (non-listening) TLS
   * server. The TLS socket that comes out is matched to its header by the TCP peer's address and
   * port, unique among open connections to one listener.
   */
  function createTlsListener(tls: { certFile: string; keyFile: string }): Server {
    const secure = createTlsServer({ cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) });
    const declared = new Map<string, string>();
    const peerKey = (socket: Socket) => `${socket.remoteAddress} ${socket.remotePort}`;
    secure.on('secureConnection', (socket: TLSSocket) => {
      const source = declared.get(peerKey(socket));
      handleConnection(socket, source ?? foldAddress(socket.remoteAddress), source !== undefined);
    });
    return createServer(
      acceptProxied(proxyOptions, (raw, source, proxied) => {
        if (proxied) {
          const key = peerKey(raw);
          declared.set(key, source);
          raw.once('close', () => declared.delete(key));
        }
        secure.emit('connection', raw);
      }),
    );
  }

  return {
    aedes,
    async listen(host, port, tls) {
      const plain = createServer(acceptProxied(proxyOptions, handleConnection));
      servers.push(plain);
      const boundPort = await listenOn(plain, host, port);
      let tlsPort: number | undefined;
      if (tls) {
        const secure = createTlsListener(tls);
        servers.push(secure);
        tlsPort = await listenOn(secure, host, tls.port);
      }
      return tlsPort === undefined ? { port: boundPort } : { port: boundPort, tlsPort };
    },
    disconnect(deviceId) {
      const client = (aedes as unknown as { clients: Record<string, Client | undefined> }).clients[deviceId];
      if (!client) return false;
      log.info({ clientId: loggedId(deviceId) }, 'session closed: credentials changed');
      client.close();
      return true;
    },
    edgeStatus(edgeNodeId) {
      const client = (aedes as unknown as { clients: Record<string, Client | undefined> }).clients[edgeNodeId];
      const edge = client && edgeSessions.get(client);
      return edge ? edge.session.status() : { connected: false, born: false, group: null, bdSeq: null, devicesAlive: 0 };
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

/** Closes a client's connection; false when it was already closed. */
function closeIfOpen(client: Client): boolean {
  if (client.closed) return false;
  client.close();
  return true;
}

/**
 * Accept queue length. Node's default (511) overflows when thousands of devices reconnect at
 * once (a gateway restart): the kernel drops their handshakes and each device waits out a
 * 1 s, 3 s, 7 s … SYN retransmission, so a storm of 10,000 took 30 s instead of a few
 * (bench/ connect-storm). Linux caps it at net.core.somaxconn.
 */
export const LISTEN_BACKLOG = 8192;

function listenOn(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
