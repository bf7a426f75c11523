/**
 * The telemetry contract shared by the heartbeat admission (src/services), the stores (SQLite, InfluxDB, PostgreSQL) and
 * the verifier. Activity is stored as minutes, not messages (ARCHITECTURE.md): a device-day
 * is a 1440-bit minute map plus counters.
 */
import type { DeviceDayActivity } from '../activity/index.js';

export { MINUTE_MAP_BYTES, type DeviceDayActivity } from '../activity/index.js';

export type HeartbeatStatus = 'running' | 'idle' | 'fault' | 'off';

/** An accepted heartbeat, as the heartbeat admission hands it to a store. */
export interface Heartbeat {
  deviceId: string;
  contractId: string;
  supplierId: string;
  seq: number;
  /** Gateway receive time, epoch ms, from the injected clock. The only time that counts. */
  receivedAt: number;
  /** The device's own timestamp (epoch ms), kept only to measure skew. */
  deviceTs?: number;
  status?: HeartbeatStatus;
  metrics?: Record<string, number>;
  /** Remote address of the connection it came over (`ip` or `ip:port`-less host). */
  source: string;
  /** The edge node it was reported through (src/edge); absent for a device's own connection. */
  via?: string;
  /** Set by the heartbeat admission: arrived within the lock-step window of another device's heartbeat from the same source. */
  coincident: boolean;
}

export interface ActivityOptions {
  /**
   * Minute maps are needed only from this day on (default: fromDay); rows of earlier days may
   * come without one (their `onlineMinutes` is always there). A verification needs the map of
   * the day containing its time only, and the maps are most of the bytes a 30-day query moves.
   */
  minuteMapsFrom?: string;
}

export interface StoreHealth {
  status: 'ok' | 'degraded';
  detail?: string;
}

export interface TelemetryStore {
  readonly kind: 'sqlite' | 'influx' | 'postgres';
  /** Durably stores a batch. Resolves only once the batch is durable (QoS 1 PUBACK waits on it). */
  append(batch: readonly Heartbeat[]): Promise<void>;
  /**
   * Activity rows of the given devices for days fromDay..toDay inclusive (`YYYY-MM-DD`), ordered
   * by device id then day; absent device-days are omitted.
   */
  dailyActivity(deviceIds: readonly string[], fromDay: string, toDay: string, options?: ActivityOptions): Promise<DeviceDayActivity[]>;
  health(): StoreHealth;
  close(): Promise<void>;
}

