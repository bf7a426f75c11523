/**
 * InfluxDB telemetry store (GATEWAY_STORE=influx): 1.x through `influx`, plus an optional
 * 2.x writer through `@influxdata/influxdb-client` (loaded only when used).
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
// The 2.x writer module loads @influxdata/influxdb-client itself, only when called.
export { createInflux2Writer, type Influx2Writer, type Influx2WriterOptions } from './influx2-writer.js';
