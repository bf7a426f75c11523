/**
 * InfluxDB telemetry store (GATEWAY_STORE=influx) through the `influx` package: InfluxDB 1.x's
 * /write and /query API, which InfluxDB 2.x and 3.x also serve as their v1 compatibility API.
 */
export {
  createInfluxTelemetryStore,
  InfluxBufferFullError,
  activityQuery,
  rollupQuery,
  type InfluxTelemetryStore,
  type InfluxTelemetryStoreOptions,
} from './influx-telemetry-store.js';
export { HEARTBEAT_MEASUREMENT } from './points.js';
export { LineEncoder } from './line-protocol.js';
export { parseInfluxUrl, type InfluxConnection } from './url.js';
export { RollupState, mergeRollups, ACTIVITY_MEASUREMENT, type DayRollup, type RollupRow } from './rollup.js';
