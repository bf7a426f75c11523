import type { ConnectionKind, CountedReason } from '../src/telemetry/index.js';

/**
 * What the broker needs from the registry: token checks and a device's contract facts.
 * `banned`: another node banned the device id for flapping (shared through the registry); it is
 * refused like a local ban, before its token counts for anything.
 */
export type TokenVerdict = 'ok' | 'unknown-device' | 'disabled' | 'bad-token' | 'banned';

export interface DeviceFacts {
  deviceId: string;
  contractId: string;
  supplierId: string;
}

export interface DeviceDirectory {
  verifyToken(deviceId: string, token: string): Promise<TokenVerdict>;
  facts(deviceId: string): Promise<DeviceFacts | undefined>;
}


export interface ConnectionLog {
  recordConnection(event: { deviceId: string; at: number; kind: ConnectionKind; source: string }): void;
  /** Counts what is not stored row by row (the evidence store's per device-day counters). */
  countRejection(deviceId: string, atMs: number, reason: CountedReason): void;
}
