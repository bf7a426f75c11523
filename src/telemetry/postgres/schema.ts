import type { PostgresMigration } from '../../db/postgres.js';

/**
 * Telemetry tables in PostgreSQL (component 'postgres-telemetry' in gateway_schema_migrations).
 *
 * - `telemetry_device_day`: one row per device per Asia/Shanghai day, as in the SQLite store
 *   (src/telemetry/sqlite/schema.ts): the 180-byte minute map, its count of set bits
 *   (`online_minutes`, so a 30-day verification reads one number per closed day) and the
 *   counters. Keyed by the text device id rather than a surrogate key: the upsert of a batch is
 *   then one statement with no look-up of keys first, and several gateway nodes may write the
 *   same device-day without coordinating. Primary key device first, so a verification's read of
 *   a device's 30 days is one index range.
 * - `telemetry_minute_map_or(a, b)`: the bitwise OR of two maps. PostgreSQL has OR on bit
 *   strings, not on bytea: the maps travel through bit(1440) (hex in, `bit_send` out, whose
 *   first 4 bytes are the bit length). Both conversions keep byte order, so bit i of byte j
 *   stays bit i of byte j — the map's own layout (src/activity/minute-map.ts) is untouched.
 */
export const postgresTelemetryMigrations: readonly PostgresMigration[] = [
  {
    version: 1,
    description: 'per-device-day minute maps, online minutes and counters; the minute-map OR',
    up: `
      CREATE FUNCTION telemetry_minute_map_or(a bytea, b bytea) RETURNS bytea
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        RETURN substring(bit_send(('x' || encode(a, 'hex'))::bit(1440) | ('x' || encode(b, 'hex'))::bit(1440)) FROM 5);
      CREATE TABLE telemetry_device_day (
        device_id       text     NOT NULL,
        day_number      integer  NOT NULL,
        minute_map      bytea    NOT NULL CHECK (length(minute_map) = 180),
        online_minutes  smallint NOT NULL CHECK (online_minutes BETWEEN 0 AND 1440),
        heartbeats      bigint   NOT NULL CHECK (heartbeats > 0),
        first_seen      bigint   NOT NULL,
        last_seen       bigint   NOT NULL CHECK (last_seen >= first_seen),
        last_seq        bigint   NOT NULL,
        skew_samples    bigint   NOT NULL,
        skew_abs_sum_ms bigint   NOT NULL,
        coincident      bigint   NOT NULL,
        PRIMARY KEY (device_id, day_number)
      );
    `,
  },
  {
    version: 2,
    description: 'optional raw heartbeats, partitioned by Asia/Shanghai day so that retention drops whole partitions',
    // Partitions (telemetry_heartbeat_<day number>) are created by the store for each new day it
    // writes and dropped by its prune; the partitioned index is inherited by each.
    up: `
      CREATE TABLE telemetry_heartbeat (
        device_id   text    NOT NULL,
        day_number  integer NOT NULL,
        received_at bigint  NOT NULL,
        seq         bigint  NOT NULL,
        device_ts   bigint,
        status      text,
        metrics     text,
        source      text    NOT NULL,
        via         text,
        coincident  boolean NOT NULL
      ) PARTITION BY RANGE (day_number);
      CREATE INDEX telemetry_heartbeat_device_time ON telemetry_heartbeat (device_id, received_at);
    `,
  },
];
