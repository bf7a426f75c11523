/**
 * InfluxDB telemetry store (GATEWAY_STORE=influx) through the `influx` package: InfluxDB 1.x's
 * /write and /query API, which InfluxDB 2.x and 3.x also serve as their v1 compatibility API.
 */
export {
  createInfluxTelemetryStore,
  type InfluxTelemetryStore,
} from './influx-telemetry-store.js';
