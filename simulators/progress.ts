import type { FleetStats } from './fleet.js';
import { DAY_MS } from '../src/time/shanghai.js';
import { monotonicMs } from '../src/clock.js';

/**
 * Progress of a long run on stderr: one redrawn line on a terminal, a plain line every few
 * seconds otherwise (CI logs). Shows devices connected, heartbeats sent/acked and the
 * simulated day.
 */
export interface Progress {
  update(simulatedMs: number): void;
  done(): void;
}

export function createProgress(options: {
  stats: FleetStats;
  devices: number;
  start: number;
  end: number;
  stream?: NodeJS.WriteStream;
  enabled?: boolean;
  /** Interval between plain lines when not on a terminal. */
  lineEveryMs?: number;
}): Progress {
  const stream = options.stream ?? process.stderr;
  const tty = Boolean(stream.isTTY);
  const enabled = options.enabled ?? true;
  const every = tty ? 150 : (options.lineEveryMs ?? 5000);
  const started = monotonicMs();
  let lastDraw = 0;
  let simulated = options.start;

  function line(): string {
    const { stats } = options;
    const totalDays = (options.end - options.start) / DAY_MS;
    const day = Math.min(totalDays, (simulated - options.start) / DAY_MS);
    const share = totalDays > 0 ? day / totalDays : 1;
    const width = 24;
    const filled = Math.round(share * width);
    const bar = tty ? `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ` : '';
    const secs = ((monotonicMs() - started) / 1000).toFixed(1);
    const when = totalDays >= 1 ? `day ${day.toFixed(1)}/${totalDays.toFixed(0)}` : `${((simulated - options.start) / 60_000).toFixed(1)}/${((options.end - options.start) / 60_000).toFixed(0)} min`;
    return (
      `${bar}${when}  connected ${stats.connected}/${options.devices}  ` +
      `heartbeats sent ${stats.sent} acked ${stats.acked}  ${secs} s`
    );
  }

  return {
    update(ms) {
      simulated = ms;
      if (!enabled) return;
      const now = monotonicMs();
      if (now - lastDraw < every) return;
      lastDraw = now;
      if (tty) stream.write(`\r${line()}\u001b[K`);
      else stream.write(`${line()}\n`);
    },
    done() {
      if (!enabled) return;
      simulated = Math.max(simulated, options.end);
      stream.write(tty ? `\r${line()}\u001b[K\n` : `${line()}\n`);
    },
  };
}
