export {
  createSqliteTelemetryStore,
  type SqliteTelemetryStore,
  type SqliteTelemetryStoreOptions,
  type RawHeartbeatRow,
} from './sqlite-telemetry-store.js';
export { telemetryMigrations } from './schema.js';
