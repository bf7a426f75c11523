/**
 * Optional writer for operators on InfluxDB 2.x: the same line protocol as the 1.x store
 * (points.ts: measurement `heartbeat`, tags device/contract/supplier, ns timestamps carrying
 * seq) sent to the native `/api/v2/write` API through `@influxdata/influxdb-client`, with a
 * token, an org and a bucket. `write` resolves only after the server answered the flush
 * with 204, so it can sit behind QoS 1 acknowledgements like `append`.
 *
 * The client is imported lazily: installs that never use 2.x never load it. No InfluxDB 2
 * server runs in this repository's test environment; the request this sends is pinned by a
 * recorded-exchange contract test (test/unit/telemetry-influx/influx2-writer.test.ts).
 */
import type { Logger } from '../../log.js';
import { silentLogger } from '../../log.js';
import type { Heartbeat } from '../types.js';
import { LineEncoder } from './line-protocol.js';

export interface Influx2WriterOptions {
  /** Server root, e.g. `http://127.0.0.1:8086`. */
  url: string;
  token: string;
  org: string;
  bucket: string;
  /** Retries of the client on 429/503 and network errors. Default 3. */
  maxRetries?: number;
  /** HTTP timeout, ms. Default 10,000. */
  timeoutMs?: number;
  /** Receives the client's own warnings and errors (it logs to the console otherwise). */
  log?: Logger;
}

export interface Influx2Writer {
  /** Writes a batch; resolves once InfluxDB 2.x acknowledged it (204). */
  write(batch: readonly Heartbeat[]): Promise<void>;
  close(): Promise<void>;
}

export async function createInflux2Writer(options: Influx2WriterOptions): Promise<Influx2Writer> {
  const { InfluxDB, setLogger } = await import('@influxdata/influxdb-client');
  const log = options.log ?? silentLogger;
  // The client's logger is process-wide; route it into ours.
  setLogger({
    error: (message: string, err?: unknown) => log.error({ err: err instanceof Error ? err.message : err }, `influxdb-client: ${message}`),
    warn: (message: string, err?: unknown) => log.warn({ err: err instanceof Error ? err.message : err }, `influxdb-client: ${message}`),
  });
  const client = new InfluxDB({ url: options.url, token: options.token, timeout: options.timeoutMs ?? 10_000 });
  const writeApi = client.getWriteApi(options.org, options.bucket, 'ns', {
    // Batching is ours (group commit): one flush per batch, nothing sent on a timer.
    batchSize: 100_000,
    flushInterval: 0,
    maxRetries: options.maxRetries ?? 3,
    maxBufferLines: 1_000_000,
  });
  // The same lines as the 1.x store writes: InfluxDB 2.x serves the same line protocol.
  const encoder = new LineEncoder();
  let chain: Promise<void> = Promise.resolve();
  return {
    write(batch) {
      if (batch.length === 0) return Promise.resolve();
      const lines: string[] = [];
      encoder.heartbeatLines(batch, lines);
      // Serialised, so each caller's flush covers exactly its own lines.
      const done = chain.then(async () => {
        writeApi.writeRecords(lines);
        await writeApi.flush(true);
      });
      chain = done.catch(() => undefined);
      return done;
    },
    async close() {
      await chain;
      await writeApi.close();
    },
  };
}
