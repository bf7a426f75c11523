import type { ClockSegment } from '../telemetry/evidence.js';
import { DAY_MS, SHANGHAI_OFFSET_MS } from '../time/shanghai.js';

/**
 * Clock drift of every device against the gateway's clock, kept while ingesting (SHARED_CLOCK
 * evidence). The offset y = device `ts` − receive time drifts at the rate error of the clock
 * that stamped `ts`; Kohno, Broido and Claffy ("Remote physical device fingerprinting", IEEE
 * S&P 2005) tell devices apart by exactly this slope. Devices served by one process are stamped
 * by one clock, so their slopes coincide.
 *
 * The slope is fitted by least squares within *segments*: a run of heartbeats of one device on
 * one Asia/Shanghai day without a jump of the offset (an NTP step, a buffered delivery, a reset
 * clock) or a gap. Each segment has its own intercept, one slope for all (the pooled
 * within-segment estimator), so a clock that NTP steps back every hour still shows the rate of
 * its crystal between the steps. Per heartbeat: one map lookup and a few additions.
 *
 * A closed segment is reduced to its centred sums (Sxx, Sxy, Syy), which add across segments
 * and days; the evidence store keeps one row of them per device-day.
 */
export type { ClockSegment };

export interface ClockDriftTracker {
  observe(deviceId: string, receivedAt: number, deviceTs: number): void;
  /** Closes the segments without a heartbeat for `gapMs` before `now` or of a day before `now`'s (a scan of every open one: call it seldom). */
  closeIdle(now: number): void;
  /** Hands over every closed segment not handed over yet. */
  take(): ClockSegment[];
  /** Devices with an open segment. */
  open(): number;
}

interface Open {
  dayNumber: number;
  x0: number;
  y0: number;
  n: number;
  sx: number;
  sy: number;
  sxx: number;
  sxy: number;
  syy: number;
  lastX: number;
  lastY: number;
}

/** Segments shorter than this carry no slope worth keeping. */
const MIN_SEGMENT_SAMPLES = 3;

export function createClockDriftTracker(options: { stepMs: number; gapMs: number }): ClockDriftTracker {
  const { stepMs, gapMs } = options;
  const open = new Map<string, Open>();
  let closed: ClockSegment[] = [];

  function close(deviceId: string, s: Open): void {
    if (s.n < MIN_SEGMENT_SAMPLES) return;
    closed.push({
      deviceId,
      dayNumber: s.dayNumber,
      samples: s.n,
      segments: 1,
      sxx: s.sxx - (s.sx * s.sx) / s.n,
      sxy: s.sxy - (s.sx * s.sy) / s.n,
      syy: s.syy - (s.sy * s.sy) / s.n,
    });
  }

  return {
    observe(deviceId, receivedAt, deviceTs) {
      const offset = deviceTs - receivedAt;
      const dayNumber = Math.floor((receivedAt + SHANGHAI_OFFSET_MS) / DAY_MS);
      let s = open.get(deviceId);
      if (s && (s.dayNumber !== dayNumber || receivedAt - s.lastX > gapMs || Math.abs(offset - s.lastY) > stepMs)) {
        close(deviceId, s);
        s = undefined;
      }
      if (!s) {
        // Sums relative to the segment's first point keep the squares small enough for doubles.
        s = { dayNumber, x0: receivedAt, y0: offset, n: 0, sx: 0, sy: 0, sxx: 0, sxy: 0, syy: 0, lastX: receivedAt, lastY: offset };
        open.set(deviceId, s);
      }
      const x = receivedAt - s.x0;
      const y = offset - s.y0;
      s.n++;
      s.sx += x;
      s.sy += y;
      s.sxx += x * x;
      s.sxy += x * y;
      s.syy += y * y;
      s.lastX = receivedAt;
      s.lastY = offset;
    },
    closeIdle(now) {
      const today = Math.floor((now + SHANGHAI_OFFSET_MS) / DAY_MS);
      for (const [deviceId, s] of open) {
        // Idle, or its day is over: the verifier sees it from now on.
        if (now - s.lastX > gapMs || s.dayNumber < today) {
          close(deviceId, s);
          open.delete(deviceId);
        }
      }
    },
    take() {
      const out = closed;
      closed = [];
      return out;
    },
    open() {
      return open.size;
    },
  };
}
