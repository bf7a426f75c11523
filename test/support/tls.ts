import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** A throw-away self-signed certificate for 127.0.0.1 in `dir` (openssl), as the gateway's MQTT-over-TLS settings on a free port. */
export function selfSignedTlsEnv(dir: string): Record<string, string> {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { GATEWAY_MQTT_TLS_CERT: cert, GATEWAY_MQTT_TLS_KEY: key, GATEWAY_MQTT_TLS_PORT: '0' };
}
