export {
  createSqliteTelemetryStore,
  type SqliteTelemetryStoreOptions,
} from './sqlite-telemetry-store.js';
