import type { AuthenticateError, Client } from 'aedes';
import type { Clock } from '../src/clock.js';
import type { Logger } from '../src/log.js';
import type { Metrics } from '../src/metrics.js';
import { SessionSupersededError } from '../src/services/device-sessions.js';
import type { ConnectionLog, DeviceDirectory, TokenVerdict } from './device-directory.js';
import type { FloodControl } from './flood-control.js';
import { remoteAddress } from './remote-address.js';
import { loggedId } from './topics.js';

// CONNACK return codes of MQTT 3.1.1 §3.2.2.3.
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;
const SERVER_UNAVAILABLE = 3;

function refuse(returnCode: number, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

/**
 * A device id banned for flapping, by this node or another (flood-control.ts): CONNACK 3 "server
 * unavailable" [MQTT-3.2.2.3], try again later. Not an authentication failure: nothing is
 * counted against the device's address.
 */
export function refuseBannedDevice(
  client: Client,
  deps: { metrics: Metrics; log: Logger },
  done: (error: AuthenticateError | null, success: boolean | null) => void,
): void {
  deps.metrics.mqttConnectionsRefused.inc({ reason: 'banned-device' });
  deps.log.warn({ clientId: loggedId(client.id), source: remoteAddress(client) }, 'MQTT CONNECT refused: device banned for flapping');
  done(refuse(SERVER_UNAVAILABLE, `device ${loggedId(client.id)} is temporarily banned for flapping`), null);
}

/**
 * aedes `authenticate` hook: client id = username = a registered, enabled device id, and the
 * password is that device's token (compared in constant time by the directory).
 */
export function createAuthenticate(deps: {
  directory: DeviceDirectory;
  connections: ConnectionLog;
  clock: Clock;
  metrics: Metrics;
  log: Logger;
  /** Called for each accepted device before its session is registered (takeover detection). */
  onAuthenticated: (client: Client, deviceId: string) => Promise<void>;
  /** Address bans from failed authentications and the cap on auth-failed evidence (flood-control.ts). */
  authFailures?: Pick<FloodControl, 'addressBanned' | 'recordAuthFailure' | 'admitAuthFailedEvidence'>;
}) {
  const { directory, connections, clock, metrics, log } = deps;

  function fail(client: Client, deviceId: string, reason: string, code: number, done: (e: AuthenticateError, s: null) => void) {
    const source = remoteAddress(client);
    const at = clock.now();
    metrics.authFailures.inc({ reason });
    // A banned address's failures are counted, not logged one by one: the ban is what keeps a
    // neighbour's flood out of the log. The answer is the same CONNACK either way (no oracle).
    if (deps.authFailures?.addressBanned(source)) metrics.mqttConnectionsRefused.inc({ reason: 'banned-address' });
    else log.warn({ clientId: loggedId(deviceId), source, reason }, 'MQTT CONNECT refused');
    deps.authFailures?.recordAuthFailure(source);
    if (reason !== 'missing-credentials' && reason !== 'client-id-mismatch' && reason !== 'unknown-device') {
      // A registered device: evidence for its verification, at most a few rows a minute.
      if (deps.authFailures?.admitAuthFailedEvidence(deviceId) ?? true) connections.recordConnection({ deviceId, at, kind: 'auth-failed', source });
      else connections.countRejection(deviceId, at, 'auth-failed-unrecorded');
    }
    done(refuse(code, `${reason} for ${loggedId(deviceId)}`), null);
  }

  return function authenticate(
    client: Client,
    username: Readonly<string | undefined>,
    password: Readonly<Buffer | undefined>,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void {
    const clientId = client.id;
    if (!username || !password) return fail(client, clientId, 'missing-credentials', BAD_USERNAME_OR_PASSWORD, done);
    if (username !== clientId) return fail(client, clientId, 'client-id-mismatch', NOT_AUTHORIZED, done);
    const token = password.toString('utf8');
    void (async () => {
      let verdict: TokenVerdict;
      try {
        verdict = await directory.verifyToken(clientId, token);
        if (verdict === 'ok') await deps.onAuthenticated(client, clientId);
      } catch (err) {
        if (err instanceof SessionSupersededError) {
          // A later CONNECT of the device, on another node, claimed its session while this one's
          // claim was in flight: the later one keeps it, as aedes keeps the later one on one node.
          metrics.mqttConnectionsRefused.inc({ reason: 'session-superseded' });
          log.info({ clientId: loggedId(clientId) }, 'MQTT CONNECT refused: a later CONNECT of the device took the session');
          return done(refuse(SERVER_UNAVAILABLE, 'session taken over by a later connection'), null);
        }
        // The registry's database is unreachable: "server unavailable" [MQTT-3.2.2.3], so the
        // device retries later; neither the device nor its address is blamed.
        metrics.mqttConnectionsRefused.inc({ reason: 'registry-unavailable' });
        log.error({ err, clientId: loggedId(clientId) }, 'MQTT CONNECT refused: registry unavailable');
        return done(refuse(SERVER_UNAVAILABLE, 'registry unavailable, try again later'), null);
      }
      switch (verdict) {
        case 'ok':
          return done(null, true);
        case 'banned':
          return refuseBannedDevice(client, { metrics, log }, done);
        case 'disabled':
          return fail(client, clientId, 'device-disabled', NOT_AUTHORIZED, done);
        case 'unknown-device':
          return fail(client, clientId, 'unknown-device', BAD_USERNAME_OR_PASSWORD, done);
        case 'bad-token':
          return fail(client, clientId, 'bad-token', BAD_USERNAME_OR_PASSWORD, done);
      }
    })();
  };
}
