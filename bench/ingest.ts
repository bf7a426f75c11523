/**
 * ingest / ingest-influx / ingest-postgres: N devices publish QoS 1 heartbeats, a fixed window in flight per
 * device, for D seconds; throughput = PUBACKs received inside the window ÷ D, summed over the
 * load processes. The gateway releases a PUBACK only after the heartbeat's batch is durably
 * committed; the reference (bare aedes) right after handling it. Rounds alternate
 * reference / gateway on fresh server processes; medians and their ratio are reported.
 */
import { median, sleep, withFleet, type ServerKind } from './harness.js';
import { createHistogram, merge, quantile } from './load/histogram.js';

export interface IngestOptions {
  devices: number;
  durationMs: number;
  rounds: number;
  /** Load processes (each runs devices ÷ publishers clients). */
  publishers: number;
  window: number;
  /** Source addresses the fleet is spread over (see bench/load/connect.ts). */
  sources: number;
  /** GATEWAY_* settings of the gateway under test. */
  gatewayEnv: Record<string, string>;
  log?: (line: string) => void;
  /** Extra node flags for the server, e.g. ['--cpu-prof'] to profile it. */
  serverNodeArgs?: string[];
  /** CPU ms used so far by a database the server writes to (PostgreSQL), to charge it per message too. */
  databaseCpuMs?: () => number;
}

export interface IngestRound {
  server: ServerKind;
  round: number;
  connected: number;
  perSecond: number;
  /** What the server itself counted per second over the same window (committed heartbeats for the gateway). */
  serverPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Server CPU time ÷ wall time over the window (1 = one core busy). */
  serverCpu: number;
  /** Server CPU µs per acknowledged message. */
  cpuUsPerMessage: number;
  /** The database's CPU µs per acknowledged message over the same window (NaN without `databaseCpuMs`). */
  databaseCpuUsPerMessage: number;
  serverRssMiB: number;
  sent: number;
  ackedTotal: number;
  /** Heartbeats the gateway committed by the end (after the load drained); acked ≤ committed must hold. */
  committedTotal: number;
  disconnects: number;
  errors: string[];
}

export async function ingestRound(kind: ServerKind, round: number, options: IngestOptions): Promise<IngestRound> {
  const fleet = {
    kind,
    devices: options.devices,
    loaders: options.publishers,
    load: 'publisher',
    spec: { window: options.window, sources: options.sources },
    gatewayEnv: options.gatewayEnv,
    serverNodeArgs: options.serverNodeArgs,
  } as const;
  return withFleet(fleet, async (server, loads) => {
    const ready = await Promise.all(loads.map((l) => l.next('connected')));
    const connected = ready.reduce((s, r) => s + r.clients, 0);
    await sleep(500);
    const before = await server.stats();
    const databaseBefore = options.databaseCpuMs?.() ?? Number.NaN;
    for (const l of loads) l.send({ type: 'go', durationMs: options.durationMs });
    let databaseAfter = Number.NaN;
    const after = sleep(options.durationMs).then(() => {
      databaseAfter = options.databaseCpuMs?.() ?? Number.NaN;
      return server.stats();
    });
    const results = await Promise.all(loads.map((l) => l.next('published', options.durationMs + 60_000)));
    const end = await after;
    const final = await server.stats();
    const seconds = options.durationMs / 1000;
    const acked = results.reduce((s, r) => s + r.ackedInWindow, 0);
    const histogram = createHistogram();
    for (const r of results) merge(histogram, r.histogram);
    const wallMs = end.at - before.at;
    const cpuMs = end.cpuMs - before.cpuMs;
    return {
      server: kind,
      round,
      connected,
      perSecond: acked / seconds,
      serverPerSecond: ((end.messages - before.messages) / wallMs) * 1000,
      p50Ms: quantile(histogram, 0.5),
      p99Ms: quantile(histogram, 0.99),
      serverCpu: cpuMs / wallMs,
      cpuUsPerMessage: acked > 0 ? (cpuMs * 1000) / ((acked / seconds) * (wallMs / 1000)) : Number.NaN,
      databaseCpuUsPerMessage: acked > 0 ? ((databaseAfter - databaseBefore) * 1000) / acked : Number.NaN,
      serverRssMiB: end.rssBytes / 2 ** 20,
      sent: results.reduce((s, r) => s + r.sent, 0),
      ackedTotal: results.reduce((s, r) => s + r.ackedTotal, 0),
      committedTotal: final.messages,
      disconnects: results.reduce((s, r) => s + r.disconnects, 0),
      errors: [...new Set(results.flatMap((r) => r.errors))].slice(0, 5),
    };
  });
}

export interface IngestVariant {
  label: string;
  kind: ServerKind;
  /** GATEWAY_* settings for this variant (per round, e.g. a fresh InfluxDB database). */
  env?: (round: number) => Record<string, string> | Promise<Record<string, string>>;
  /** See IngestOptions.databaseCpuMs. */
  databaseCpuMs?: () => number;
}

export interface IngestFigures {
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  cpuUsPerMessage: number;
  databaseCpuUsPerMessage: number;
  serverCpu: number;
  /** Every round: all devices connected, no errors, every acked heartbeat committed. */
  clean: boolean;
}

/**
 * Runs every variant once per round, rotating the order each round so no variant always runs
 * first (warm disk cache, other tenants of the machine), and reports per-variant medians.
 */
export async function runIngest(options: Omit<IngestOptions, 'gatewayEnv'> & { variants: IngestVariant[] }): Promise<{ rounds: (IngestRound & { label: string })[]; figures: Record<string, IngestFigures> }> {
  const rounds: (IngestRound & { label: string })[] = [];
  const say = options.log ?? (() => undefined);
  for (let round = 1; round <= options.rounds; round++) {
    const shift = (round - 1) % options.variants.length;
    const order = [...options.variants.slice(shift), ...options.variants.slice(0, shift)];
    for (const variant of order) {
      const r = { label: variant.label, ...(await ingestRound(variant.kind, round, {
          ...options,
          gatewayEnv: (await variant.env?.(round)) ?? {},
          ...(variant.databaseCpuMs ? { databaseCpuMs: variant.databaseCpuMs } : {}),
        })) };
      rounds.push(r);
      say(
        `  round ${round} ${variant.label.padEnd(14)} ${Math.round(r.perSecond).toLocaleString('en').padStart(7)} acks/s` +
          `  p50 ${r.p50Ms.toFixed(1)} ms  p99 ${r.p99Ms.toFixed(1)} ms  server cpu ${(r.serverCpu * 100).toFixed(0)}%` +
          `  ${r.cpuUsPerMessage.toFixed(1)} µs/msg${Number.isNaN(r.databaseCpuUsPerMessage) ? '' : ` (+ database ${r.databaseCpuUsPerMessage.toFixed(1)} µs/msg)`}  connected ${r.connected}${r.errors.length ? `  errors: ${r.errors.join('; ')}` : ''}`,
      );
    }
  }
  const figures: Record<string, IngestFigures> = {};
  for (const variant of options.variants) {
    const of = rounds.filter((r) => r.label === variant.label);
    figures[variant.label] = {
      perSecond: median(of.map((r) => r.perSecond)),
      p50Ms: median(of.map((r) => r.p50Ms)),
      p99Ms: median(of.map((r) => r.p99Ms)),
      cpuUsPerMessage: median(of.map((r) => r.cpuUsPerMessage)),
      databaseCpuUsPerMessage: median(of.map((r) => r.databaseCpuUsPerMessage)),
      serverCpu: median(of.map((r) => r.serverCpu)),
      clean: of.every(
        (r) => r.connected === options.devices && r.errors.length === 0 && (r.server !== 'gateway' || r.committedTotal >= r.ackedTotal),
      ),
    };
  }
  return { rounds, figures };
}
