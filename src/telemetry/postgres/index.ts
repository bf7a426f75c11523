export { createPostgresTelemetryStore, type PostgresTelemetryStore } from './postgres-telemetry-store.js';
