/**
 * Edge gateway fleets for the simulators (issue 20), each one Sparkplug B edge node on one real
 * MQTT connection reporting for its children, minute by minute in virtual time:
 *
 * - `edge-shifts` (honest): every child is a machine with its own working hours — its own
 *   start (08:00–09:00), length (2.5–3.5 h) and a day off now and then — born (DBIRTH) when it
 *   starts and dead (DDEATH) when it stops, with its own readings (a temperature random walk,
 *   spindle speed) every other minute. The gateway itself stays on and restarts once a week (its
 *   socket killed: NDEATH from the will, then a rebirth).
 * - `edge-always-on` (honest): machines running around the clock, a reading every 16 minutes,
 *   all born with the node, which never restarts.
 * - `edge-cloner` (dishonest): one real machine, and the gateway reports its readings under
 *   every child's id; switched on 08:00–11:00 every day, children born and dead with it.
 * - `edge-inventor` (dishonest): the same gateway, but each invented child gets readings of its
 *   own (noise on the real one), so they do not copy each other; they still appear and vanish
 *   only with the gateway.
 */
import { deriveSeed, mulberry32 } from '../profiles.js';
import type { Readings, SparkplugEdgeNode } from './sparkplug-edge-node.js';

export const HONEST_EDGE_PROFILES = ['edge-shifts', 'edge-always-on'] as const;
export const DISHONEST_EDGE_PROFILES = ['edge-cloner', 'edge-inventor'] as const;
export const EDGE_PROFILES = [...HONEST_EDGE_PROFILES, ...DISHONEST_EDGE_PROFILES] as const;
export type EdgeProfile = (typeof EDGE_PROFILES)[number];

export function isDishonestEdge(profile: EdgeProfile): boolean {
  return (DISHONEST_EDGE_PROFILES as readonly string[]).includes(profile);
}

/** What the gateway does in one minute: node-level steps, then device messages. */
export interface EdgeMinute {
  /** `restart`: the connection is killed (will NDEATH) and the node reconnects and rebirths. */
  node?: 'start' | 'restart' | 'stop';
  births: Array<{ device: string; readings: Readings }>;
  data: Array<{ device: string; readings: Readings }>;
  deaths: string[];
}

export interface EdgeFleetBehaviour {
  profile: EdgeProfile;
  children: readonly string[];
  /** The minute `m` (0 = 00:00 of the first day, Asia/Shanghai) — or undefined when nothing happens. */
  minute(m: number): EdgeMinute | undefined;
}

const DAY_MINUTES = 1440;

interface Machine {
  device: string;
  temperature: number;
  spindle: number;
  rng: () => number;
}

function machine(device: string, seed: number): Machine {
  const rng = mulberry32(seed);
  return { device, temperature: 20 + rng() * 10, spindle: 800 + Math.floor(rng() * 800), rng };
}

/** A new reading: a random walk with two decimals, like a thermocouple read by a PLC. */
function read(m: Machine): Readings {
  m.temperature = Math.round((m.temperature + (m.rng() - 0.5) * 0.8) * 100) / 100;
  m.spindle = Math.max(0, m.spindle + Math.round((m.rng() - 0.5) * 40));
  return { temperature: m.temperature, spindle: m.spindle, status: 'running' };
}

/**
 * Readings every `EVERY` minutes (on even minutes for all fleets, so one virtual tick serves
 * them all): enough online minutes for an active day (≥ 60 of a 2.5 h shift), and half the
 * ticks of a reading every minute.
 */
const EVERY = 2;

export function edgeFleetBehaviour(profile: EdgeProfile, children: readonly string[], seed: number, days: number): EdgeFleetBehaviour {
  const machines = children.map((device, i) => machine(device, deriveSeed(seed, profile, i)));
  const empty = (): EdgeMinute => ({ births: [], data: [], deaths: [] });

  switch (profile) {
    case 'edge-shifts': {
      const rng = mulberry32(deriveSeed(seed, profile, 'schedule'));
      const start = machines.map(() => 8 * 60 + Math.floor(rng() * 60));
      const length = machines.map(() => 150 + Math.floor(rng() * 60));
      /** Each machine's days off: about one day in seven, its own (never the last, the day a verification looks at). */
      const offDays = machines.map(() => new Set(Array.from({ length: days - 1 }, (_, d) => d).filter(() => rng() < 1 / 7)));
      const alive = machines.map(() => false);
      return {
        profile,
        children,
        minute(m) {
          if (m % EVERY !== 0) return undefined;
          const day = Math.floor(m / DAY_MINUTES);
          const ofDay = m % DAY_MINUTES;
          const out = empty();
          if (ofDay === 7 * 60 + 50) out.node = day === 0 ? 'start' : day % 7 === 0 ? 'restart' : undefined;
          if (out.node === 'restart') alive.fill(false);
          machines.forEach((mc, i) => {
            const on = !offDays[i]!.has(day) && ofDay >= start[i]! && ofDay < start[i]! + length[i]!;
            if (on && !alive[i]) out.births.push({ device: mc.device, readings: read(mc) });
            else if (on) out.data.push({ device: mc.device, readings: read(mc) });
            else if (alive[i]) out.deaths.push(mc.device);
            alive[i] = on;
          });
          return out.node || out.births.length || out.data.length || out.deaths.length ? out : undefined;
        },
      };
    }
    case 'edge-always-on':
      return {
        profile,
        children,
        minute(m) {
          if (m % 16 !== 0) return undefined; // 90 readings a day
          const out = empty();
          if (m === 0) {
            out.node = 'start';
            for (const mc of machines) out.births.push({ device: mc.device, readings: read(mc) });
          } else for (const mc of machines) out.data.push({ device: mc.device, readings: read(mc) });
          return out;
        },
      };
    case 'edge-cloner':
    case 'edge-inventor': {
      const real = machines[0]!;
      const noise = mulberry32(deriveSeed(seed, profile, 'noise'));
      const readingsFor = (): Array<{ device: string; readings: Readings }> => {
        const reading = read(real);
        return machines.map((mc) => ({
          device: mc.device,
          readings:
            profile === 'edge-cloner'
              ? reading
              : { ...reading, temperature: Math.round(((reading.temperature as number) + (noise() - 0.5) * 4) * 100) / 100 },
        }));
      };
      return {
        profile,
        children,
        minute(m) {
          const ofDay = m % DAY_MINUTES;
          if (m % EVERY !== 0 || ofDay < 8 * 60 || ofDay > 11 * 60) return undefined;
          const out = empty();
          if (ofDay === 8 * 60) {
            out.node = 'start';
            out.births = readingsFor();
          } else if (ofDay === 11 * 60) out.node = 'stop';
          else out.data = readingsFor();
          return out;
        },
      };
    }
  }
}

/** Plays one minute on the edge node's connection; the caller waits for `barrier` before moving the clock. */
export async function playMinute(node: SparkplugEdgeNode, step: EdgeMinute, reconnect: () => Promise<void>): Promise<number> {
  let messages = 0;
  if (step.node === 'start') {
    if (!node.client?.connected) await node.connect();
    await node.nbirth();
    messages++;
  } else if (step.node === 'restart') {
    await reconnect();
    await node.nbirth();
    messages++;
  }
  for (const b of step.births) {
    void node.dbirth(b.device, b.readings);
    messages++;
  }
  for (const d of step.data) {
    void node.ddata(d.device, d.readings);
    messages++;
  }
  for (const device of step.deaths) {
    void node.ddeath(device);
    messages++;
  }
  if (step.node === 'stop') {
    await node.shutdown();
    return messages + 1;
  }
  // QoS 0 DATA, then one QoS 1 NDATA: its PUBACK means everything before it was received.
  await node.ndata({ uptimeMinutes: messages }, 1);
  return messages + 1;
}
