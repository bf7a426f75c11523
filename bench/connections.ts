/**
 * connect-storm: 10,000 devices connect (and, on the gateway, authenticate) at once; rate =
 * devices ÷ (last CONNACK − first connect call). memory: RSS per idle connected device at
 * 1k / 5k / 10k devices, (RSS with N connected − RSS before any) ÷ N, after forced GCs.
 * Both against bare aedes accepting the same anonymous connections, alternating, fresh
 * server processes per round.
 */
import { alternatingRounds, median, sleep, withFleet, type ServerKind } from './harness.js';
import { createHistogram, merge, quantile } from './load/histogram.js';

export interface StormRound {
  server: ServerKind;
  round: number;
  requested: number;
  connected: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: string[];
}

export async function stormRound(
  kind: ServerKind,
  round: number,
  devices: number,
  loaders: number,
  sources: number,
  gatewayEnv: Record<string, string> = {},
): Promise<StormRound> {
  return withFleet({ kind, devices, loaders, load: 'connector', spec: { sources }, gatewayEnv }, async (server, loads) => {
    await Promise.all(loads.map((l) => l.next('connected')));
    await sleep(300);
    for (const l of loads) l.send({ type: 'go', durationMs: 0 });
    const results = await Promise.all(loads.map((l) => l.next('storm', 300_000)));
    const startedAt = Math.min(...results.map((r) => r.startedAt));
    const lastAt = Math.max(...results.map((r) => r.lastConnackAt));
    const connected = results.reduce((s, r) => s + r.connected, 0);
    const histogram = createHistogram();
    for (const r of results) merge(histogram, r.histogram);
    const seconds = (lastAt - startedAt) / 1000;
    return {
      server: kind,
      round,
      requested: devices,
      connected,
      seconds,
      perSecond: connected / seconds,
      p50Ms: quantile(histogram, 0.5),
      p99Ms: quantile(histogram, 0.99),
      errors: [...new Set(results.flatMap((r) => r.errors))].slice(0, 5),
    };
  });
}

export interface MemoryRound {
  server: ServerKind;
  round: number;
  baselineMiB: number;
  /** devices → bytes of RSS per connected device. */
  perConnection: Record<number, number>;
  connected: Record<number, number>;
}

export async function memoryRound(kind: ServerKind, round: number, steps: readonly number[], loaders: number, sources: number): Promise<MemoryRound> {
  return withFleet({ kind, devices: Math.max(...steps), loaders, load: 'connector', spec: { sources } }, async (server, loads) => {
    await Promise.all(loads.map((l) => l.next('connected')));
    const baseline = await server.stats(true);
    const perConnection: Record<number, number> = {};
    const connected: Record<number, number> = {};
    let have = 0;
    for (const step of steps) {
      const more = step - have;
      for (const l of loads) l.send({ type: 'connect', count: Math.ceil(more / loaders) });
      await Promise.all(loads.map((l) => l.next('connected', 300_000)));
      have = step;
      await sleep(500);
      const s = await server.stats(true);
      connected[step] = s.connections;
      perConnection[step] = (s.rssBytes - baseline.rssBytes) / s.connections;
    }
    return { server: kind, round, baselineMiB: baseline.rssBytes / 2 ** 20, perConnection, connected };
  });
}

export async function runStorm(options: {
  devices: number;
  rounds: number;
  loaders: number;
  sources: number;
  log: (s: string) => void;
  /** The gateway's environment of a round (e.g. a fresh PostgreSQL database for its registry). */
  gatewayEnv?: (round: number) => Promise<Record<string, string>>;
}) {
  const rounds = await alternatingRounds(options.rounds, async (kind, round) => {
    const env = kind === 'gateway' && options.gatewayEnv ? await options.gatewayEnv(round) : {};
    const r = await stormRound(kind, round, options.devices, options.loaders, options.sources, env);
    options.log(
      `  round ${round} ${kind.padEnd(10)} ${r.connected}/${r.requested} connected in ${r.seconds.toFixed(2)} s = ${Math.round(r.perSecond).toLocaleString('en')}/s` +
        `  p50 ${r.p50Ms.toFixed(0)} ms  p99 ${r.p99Ms.toFixed(0)} ms${r.errors.length ? `  errors: ${r.errors.join('; ')}` : ''}`,
    );
    return r;
  });
  const of = (kind: ServerKind) => rounds.filter((r) => r.server === kind);
  return {
    rounds,
    gateway: { perSecond: median(of('gateway').map((r) => r.perSecond)), allConnected: of('gateway').every((r) => r.connected === r.requested) },
    reference: { perSecond: median(of('bare-aedes').map((r) => r.perSecond)), allConnected: of('bare-aedes').every((r) => r.connected === r.requested) },
  };
}

export async function runMemory(options: { steps: number[]; rounds: number; loaders: number; sources: number; log: (s: string) => void }) {
  const rounds = await alternatingRounds(options.rounds, async (kind, round) => {
    const r = await memoryRound(kind, round, options.steps, options.loaders, options.sources);
    options.log(
      `  round ${round} ${kind.padEnd(10)} baseline ${r.baselineMiB.toFixed(0)} MiB; ` +
        options.steps.map((n) => `${n}: ${(r.perConnection[n]! / 1024).toFixed(1)} KiB/conn (${r.connected[n]} connected)`).join(', '),
    );
    return r;
  });
  const perStep = (kind: ServerKind) =>
    Object.fromEntries(options.steps.map((n) => [n, median(rounds.filter((r) => r.server === kind).map((r) => r.perConnection[n]!))]));
  return { rounds, gateway: perStep('gateway'), reference: perStep('bare-aedes') };
}
