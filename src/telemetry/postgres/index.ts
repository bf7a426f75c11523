export { createPostgresTelemetryStore } from './postgres-telemetry-store.js';
