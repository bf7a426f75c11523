/**
 * A telemetry backend taken down under QoS 1 load through a whole gateway (the shape shared by
 * test/support/influx-outage.ts and postgres-outage.ts): devices publish as fast as PUBACKs
 * come back, the backend goes down for `outageMs`, comes back, and the load runs on until
 * /healthz is ok again. Returns every PUBACKed seq per device and what /healthz said, for the
 * caller to check against what its backend stored.
 */
import { systemClock } from '../../src/clock.js';
import { startTestGateway, type TestGateway } from './gateway.js';
import { sleep } from './process.js';
import { publishUntilStopped } from './qos1-load.js';
import { seedContract } from './seed.js';

export interface GatewayOutageRun {
  gw: TestGateway;
  /** deviceId → seqs the gateway PUBACKed. */
  acked: Map<string, Set<number>>;
  before: string;
  /** /healthz status every 500 ms while the backend was down. */
  during: string[];
  /** The last /healthz body seen while the backend was down. */
  lastDetail: unknown;
  /** The contract's verification asked while the backend was down: status, Retry-After, body. */
  verificationDuring: { status: number; retryAfter: string | null; body: unknown };
  after: string;
}

export async function runGatewayOutage(options: {
  env: Record<string, string>;
  takeDown(): void;
  bringUp(): Promise<void>;
  outageMs?: number;
  /** Reconnect after the gateway closed a connection (it does when it refuses a heartbeat). */
  reconnectMs?: number;
  check(run: GatewayOutageRun): Promise<void>;
}): Promise<void> {
  // Real time: InfluxDB's retention policy (400 days) drops points older than that.
  // Flood control off: it acknowledges and drops heartbeats above a device's rate by design.
  const gw = await startTestGateway({ clock: systemClock, env: { GATEWAY_DEVICE_MAX_RATE_PER_MIN: '0', ...options.env } });
  try {
    const { contractId, devices } = await seedContract(gw, { devices: 3 });
    const acked = new Map(devices.map((d) => [d.id, new Set<number>()]));
    const stops = devices.map((d) =>
      publishUntilStopped(gw.mqttUrl, d, acked.get(d.id)!, { inflight: 5, ...(options.reconnectMs === undefined ? {} : { reconnectMs: options.reconnectMs }) }),
    );
    // One retry on a network error: a keep-alive socket the server closed as it was reused is not what is tested here.
    const get = (path: string) => gw.api(path).catch(() => sleep(100).then(() => gw.api(path)));
    const healthz = async () => (await (await get('/healthz')).json()) as { status: string };

    await sleep(1_500);
    const before = (await healthz()).status;
    options.takeDown();
    const during: string[] = [];
    let lastDetail: unknown;
    let verificationDuring: GatewayOutageRun['verificationDuring'] | undefined;
    const outageMs = options.outageMs ?? 10_000;
    for (let waited = 0; waited < outageMs; waited += 500) {
      await sleep(500);
      const body = await healthz();
      during.push(body.status);
      lastDetail = body;
      if (verificationDuring === undefined && waited >= outageMs / 2) {
        const answer = await get(`/v1/contracts/${contractId}/verification`);
        verificationDuring = { status: answer.status, retryAfter: answer.headers.get('retry-after'), body: await answer.json() };
      }
    }
    await options.bringUp();
    let after = (await healthz()).status;
    for (let i = 0; i < 40 && after !== 'ok'; i++) {
      await sleep(250);
      after = (await healthz()).status;
    }
    await sleep(1_000);
    for (const stop of stops) stop();
    await gw.gateway.flush();
    await options.check({ gw, acked, before, during, lastDetail, verificationDuring: verificationDuring!, after });
    console.info(`gateway outage: ${[...acked.values()].reduce((n, s) => n + s.size, 0)} PUBACKed heartbeats; /healthz during: ${during.join(',')}`);
  } finally {
    await gw.close();
  }
}
