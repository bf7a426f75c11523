/**
 * Helpers for the hostile-input suites (test/integration/security, test/integration/reliability):
 * a raw MQTT client over mqtt-packet (no client-side validation in the way), seeded
 * generators of heartbeat payloads and topics, an oracle that judges a payload from the
 * v1 interface text (../shared/API.md) independently of src/ingest, and store invariants.
 */
import type Database from 'better-sqlite3';
import fc from 'fast-check';
import mqttPacket from 'mqtt-packet';
import net from 'node:net';
import { decodeDayCounters, viewOf } from '../../src/telemetry/sqlite/day-counters.js';

// ── sizes: CI by default, larger under `npm run soak` (scripts/soak.sh sets GW_SOAK=1) ─────────

export const SOAK = process.env.GW_SOAK === '1';
/** A positive integer from the environment, or the CI / soak default. */
export function sized(name: string, ci: number, soak: number): number {
  const raw = Number(process.env[name]);
  return Number.isInteger(raw) && raw > 0 ? raw : SOAK ? soak : ci;
}
export const FUZZ_SEED = sized('GW_FUZZ_SEED', 20201009, 20201009);

/** Prints one figure for the closing note (`[figures] name: value`). */
export function figure(name: string, value: unknown): void {
  process.stdout.write(`[figures] ${name}: ${typeof value === 'string' ? value : JSON.stringify(value)}\n`);
}

/** The simulators' seeded PRNG (mulberry32), for choices outside fast-check (kill points, timings). */
export { mulberry32 as prng } from '../../simulators/profiles.js';

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

// ── raw MQTT ─────────────────────────────────────────────────────────────────────────────────

/** MQTT remaining length: 7 bits per byte, continuation bit set on all but the last. */
export function encodeLength(n: number): Buffer {
  const bytes: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    bytes.push(b);
  } while (n > 0);
  return Buffer.from(bytes);
}

/** A PUBLISH packet, encoded by hand so topics may be any bytes (invalid UTF-8, NUL, 1,000 levels). */
export function encodePublish(topic: string | Uint8Array, payload: Uint8Array, qos: 0 | 1, messageId = 1): Buffer {
  const t = typeof topic === 'string' ? Buffer.from(topic, 'utf8') : Buffer.from(topic);
  const idBytes = qos > 0 ? 2 : 0;
  const remaining = 2 + t.length + idBytes + payload.length;
  const head = Buffer.concat([Buffer.from([0x30 | (qos << 1)]), encodeLength(remaining)]);
  const body = Buffer.alloc(2 + t.length + idBytes);
  body.writeUInt16BE(t.length, 0);
  t.copy(body, 2);
  if (qos > 0) body.writeUInt16BE(messageId, 2 + t.length);
  return Buffer.concat([head, body, payload]);
}

export function encodeConnect(options: { clientId: string; username?: string; password?: string; keepalive?: number }): Buffer {
  return mqttPacket.generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean: true,
    keepalive: options.keepalive ?? 60,
    clientId: options.clientId,
    ...(options.username === undefined ? {} : { username: options.username }),
    ...(options.password === undefined ? {} : { password: Buffer.from(options.password) }),
  } as mqttPacket.IConnectPacket);
}

/** A bare TCP MQTT client: writes any bytes, parses what comes back, never reconnects. */
export class RawMqtt {
  readonly socket: net.Socket;
  readonly closed: Promise<void>;
  isClosed = false;
  readonly received: mqttPacket.Packet[] = [];
  #parser = mqttPacket.parser({ protocolVersion: 4 });
  #acks = new Map<number, (outcome: 'acked' | 'closed') => void>();
  #connack: ((rc: number) => void) | undefined;
  #nextId = 1;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('error', () => undefined);
    socket.on('data', (b: Buffer) => this.#parser.parse(b));
    this.#parser.on('error', () => undefined);
    this.#parser.on('packet', (p: mqttPacket.Packet) => {
      if (p.cmd === 'puback') {
        const done = this.#acks.get(p.messageId!);
        this.#acks.delete(p.messageId!);
        done?.('acked');
      } else if (p.cmd === 'connack') {
        this.#connack?.(p.returnCode ?? 0);
      } else {
        this.received.push(p);
      }
    });
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.isClosed = true;
        for (const done of this.#acks.values()) done('closed');
        this.#acks.clear();
        this.#connack?.(-1);
        resolve();
      }),
    );
  }

  static open(port: number, options: { localAddress?: string } = {}): Promise<RawMqtt> {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection({ port, host: '127.0.0.1', ...(options.localAddress ? { localAddress: options.localAddress } : {}) });
      socket.setNoDelay(true);
      socket.once('connect', () => resolve(new RawMqtt(socket)));
      socket.once('error', reject);
    });
  }

  /** Opens and sends CONNECT; resolves with the CONNACK return code, or -1 if the socket closed first. */
  static async connect(port: number, credentials: { clientId: string; username?: string; password?: string }, options: { localAddress?: string } = {}) {
    const client = await RawMqtt.open(port, options);
    const rc = await client.sendConnect(credentials);
    return { client, rc };
  }

  sendConnect(credentials: { clientId: string; username?: string; password?: string }): Promise<number> {
    const rc = new Promise<number>((resolve) => (this.#connack = resolve));
    this.write(encodeConnect(credentials));
    return rc;
  }

  write(bytes: Uint8Array): boolean {
    if (this.isClosed) return false;
    return this.socket.write(bytes);
  }

  publish0(topic: string | Uint8Array, payload: Uint8Array): void {
    this.write(encodePublish(topic, payload, 0));
  }

  /** QoS 1: resolves 'acked' on PUBACK, 'closed' if the connection closes first. */
  publish1(topic: string | Uint8Array, payload: Uint8Array): Promise<'acked' | 'closed'> {
    if (this.isClosed) return Promise.resolve('closed');
    const id = this.#nextId;
    this.#nextId = (this.#nextId % 65535) + 1;
    const outcome = new Promise<'acked' | 'closed'>((resolve) => this.#acks.set(id, resolve));
    this.write(encodePublish(topic, payload, 1, id));
    return outcome;
  }

  async end(): Promise<void> {
    if (this.isClosed) return;
    this.socket.end(mqttPacket.generate({ cmd: 'disconnect' }));
    const timer = setTimeout(() => this.socket.destroy(), 1000);
    await this.closed;
    clearTimeout(timer);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

// ── the oracle: what API.md says a heartbeat is ───────────────────────────────────────────────

export type Verdict = 'accepted' | 'payload-too-large' | 'invalid-json' | 'invalid-payload' | 'duplicate-seq' | 'seq-replay';

const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:Z|([+-])(\d{2}):(\d{2}))$/;

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** ISO-8601 date-time with seconds and a `Z` or ±HH:MM offset (RFC 3339 profile), calendar-checked. */
export function isIsoWithOffset(s: string): boolean {
  const m = ISO.exec(s);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return false;
  if (hour > 23 || minute > 59 || second > 59) return false;
  if (m[7] !== undefined && (Number(m[8]) > 23 || Number(m[9]) > 59)) return false;
  return true;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const has = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

/**
 * Judges one payload against ../shared/API.md: JSON ≤ 4 KiB, `seq` a non-negative safe integer,
 * optional `ts` (ISO-8601 with offset, or epoch ms), `status` of four words, `metrics` of at
 * most 64 named finite numbers; then the session rule (a seq at or below the highest seen is a
 * duplicate or a replay). Mutates `session.maxSeq` for accepted payloads.
 */
export function judgeHeartbeat(bytes: Uint8Array, session: { maxSeq: number }): Verdict {
  if (bytes.length > 4096) return 'payload-too-large';
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return 'invalid-json';
  }
  if (!isPlainObject(doc)) return 'invalid-payload';
  const seq = doc.seq;
  if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 0 || seq > Number.MAX_SAFE_INTEGER) return 'invalid-payload';
  if (has(doc, 'ts')) {
    const ts = doc.ts;
    const okString = typeof ts === 'string' && isIsoWithOffset(ts);
    const okNumber = typeof ts === 'number' && Number.isInteger(ts) && ts >= 0 && ts <= 8.64e15;
    if (!okString && !okNumber) return 'invalid-payload';
  }
  if (has(doc, 'status') && !['running', 'idle', 'fault', 'off'].includes(doc.status as string)) return 'invalid-payload';
  if (has(doc, 'metrics')) {
    const metrics = doc.metrics;
    if (!isPlainObject(metrics)) return 'invalid-payload';
    const keys = Object.keys(metrics);
    if (keys.length > 64) return 'invalid-payload';
    for (const k of keys) {
      const v = metrics[k];
      if (k.length < 1 || k.length > 64 || typeof v !== 'number' || !Number.isFinite(v)) return 'invalid-payload';
    }
  }
  if (seq > session.maxSeq) {
    session.maxSeq = seq;
    return 'accepted';
  }
  return seq === session.maxSeq ? 'duplicate-seq' : 'seq-replay';
}

// ── generators ──────────────────────────────────────────────────────────────────────────────

type SeqMode = 'next' | 'same' | 'older' | 'jump';
type Extras = { ts?: unknown; status?: unknown; metrics?: unknown; [extra: string]: unknown };

export type PayloadSpec =
  | { kind: 'valid'; seqMode: SeqMode; delta: number; extras: Extras }
  | { kind: 'field'; field: string; value: unknown; extras: Extras }
  | { kind: 'bytes'; extras: Extras; ops: { pos: number; op: 'flip' | 'insert' | 'delete' | 'truncate'; byte: number }[] }
  | { kind: 'random'; bytes: Uint8Array }
  | { kind: 'text'; text: string }
  | { kind: 'json'; value: unknown }
  | { kind: 'deep'; depth: number; shape: 'array' | 'object' | 'metrics' }
  | { kind: 'number'; literal: string }
  | { kind: 'oversized'; size: number }
  | { kind: 'proto'; key: string; where: 'top' | 'metrics' };

const isoArb = fc
  .record({
    ms: fc.integer({ min: 0, max: 4_102_444_800_000 }),
    offset: fc.constantFrom('Z', '+08:00', '-05:30', '+00:00', '+14:00', '+24:00', '+0800', ''),
    frac: fc.constantFrom('', '.5', '.123', '.123456789'),
  })
  .map(({ ms, offset, frac }) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, `${frac}${offset}`));

/** Instants at and beyond the API's range (2000–2099, src/time/instant.ts) and `Date`'s own edges. */
export const EDGE_INSTANTS = [
  '9999-12-31T23:59:59Z',
  '0001-01-01T00:00:00Z',
  '1970-01-01T00:00:00Z',
  '1999-12-31T23:59:59.999Z',
  '2000-01-01T00:00:00Z',
  '2099-12-31T23:59:59Z',
  '2100-01-01T00:00:00Z',
  '2000-01-01T07:59:59+08:00',
] as const;

/** Any calendar instant from year 1 to 9999 (the span `Date` and ISO-8601 both write with four digits), or an edge. */
export const instantArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...EDGE_INSTANTS),
  fc
    .record({ ms: fc.integer({ min: Date.parse('0001-01-01T00:00:00Z'), max: Date.parse('9999-12-31T23:59:59Z') }), offset: fc.constantFrom('Z', '+08:00', '-05:30') })
    .map(({ ms, offset }) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, offset))
    .filter((s) => /^\d{4}-/.test(s)),
);

/** The leading characters that make a spreadsheet evaluate a cell (OWASP CSV injection). */
export const FORMULA_PREFIXES = ['=', '+', '-', '@', '\t', '\r'] as const;

/** A supplier-chosen string (serial, name) that starts like a formula: sometimes a plain number, mostly not. */
export const formulaCellArb: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom(...FORMULA_PREFIXES),
    fc.oneof(
      fc.string({ minLength: 1, maxLength: 30 }),
      fc.nat().map(String),
      fc.constantFrom(`2+3+cmd|' /C calc'!A0`, '0x1+HYPERLINK("http://e")', '1e3', '5', 'SUM(A1:A9)', '1+1'),
    ),
  )
  .map(([prefix, rest]) => prefix + rest);

const extrasArb: fc.Arbitrary<Extras> = fc.record(
  {
    ts: fc.oneof(isoArb, fc.constantFrom(...EDGE_INSTANTS), fc.integer({ min: -10, max: 8_640_000_000_000_010 }), fc.double(), fc.string({ maxLength: 30 }), fc.constant(null)),
    status: fc.oneof(fc.constantFrom('running', 'idle', 'fault', 'off'), fc.constantFrom('RUNNING', 'on', '', ' idle'), fc.integer()),
    metrics: fc.oneof(
      fc.dictionary(fc.string({ minLength: 1, maxLength: 20 }), fc.double({ noNaN: true, noDefaultInfinity: true }), { maxKeys: 8 }),
      fc.dictionary(fc.string({ maxLength: 70 }), fc.oneof(fc.double(), fc.string(), fc.constant(null)), { maxKeys: 70 }),
      fc.array(fc.integer(), { maxLength: 3 }),
    ),
  },
  { requiredKeys: [] },
);

export const payloadSpecArb: fc.Arbitrary<PayloadSpec> = fc.oneof(
  {
    weight: 30,
    arbitrary: fc.record({
      kind: fc.constant('valid' as const),
      seqMode: fc.constantFrom<SeqMode>('next', 'next', 'next', 'next', 'same', 'older', 'jump'),
      delta: fc.integer({ min: 1, max: 1000 }),
      extras: extrasArb,
    }),
  },
  {
    weight: 18,
    arbitrary: fc.record({
      kind: fc.constant('field' as const),
      field: fc.constantFrom('seq', 'ts', 'status', 'metrics', 'extra', 'drop-seq'),
      value: fc.jsonValue({ maxDepth: 3 }),
      extras: extrasArb,
    }),
  },
  {
    weight: 20,
    arbitrary: fc.record({
      kind: fc.constant('bytes' as const),
      extras: extrasArb,
      ops: fc.array(
        fc.record({ pos: fc.nat(), op: fc.constantFrom<'flip' | 'insert' | 'delete' | 'truncate'>('flip', 'insert', 'delete', 'truncate'), byte: fc.integer({ min: 0, max: 255 }) }),
        { minLength: 1, maxLength: 4 },
      ),
    }),
  },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('random' as const), bytes: fc.uint8Array({ maxLength: 5000 }) }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('text' as const), text: fc.string({ unit: 'binary', maxLength: 300 }) }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('json' as const), value: fc.jsonValue({ maxDepth: 4 }) }) },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('deep' as const), depth: fc.integer({ min: 1, max: 3000 }), shape: fc.constantFrom<'array' | 'object' | 'metrics'>('array', 'object', 'metrics') }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('number' as const),
      literal: fc.oneof(
        fc.constantFrom('1e999', '-1e999', '-0', '1.5', '9007199254740991', '9007199254740992', '9007199254740993', '123456789012345678901234567890', '0x10', '1e2', 'NaN', 'Infinity', '-1', '00', '1E+2', '2e-5', '.5', '5.', '+1'),
        fc.double().map(String),
        fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }).map(String),
      ),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('oversized' as const), size: fc.integer({ min: 4000, max: 6000 }) }) },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('proto' as const),
      key: fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'),
      where: fc.constantFrom<'top' | 'metrics'>('top', 'metrics'),
    }),
  },
);

/** Renders a spec to payload bytes; `maxSeq` is the session's highest accepted seq so far. */
export function renderPayload(spec: PayloadSpec, maxSeq: number): Buffer {
  const next = maxSeq + 1;
  const json = (v: unknown) => Buffer.from(JSON.stringify(v) ?? 'undefined', 'utf8');
  switch (spec.kind) {
    case 'valid': {
      const seq = spec.seqMode === 'next' ? next : spec.seqMode === 'same' ? Math.max(0, maxSeq) : spec.seqMode === 'older' ? Math.max(0, maxSeq - spec.delta) : maxSeq + spec.delta;
      return json({ seq, ...spec.extras });
    }
    case 'field': {
      const doc: Record<string, unknown> = { seq: next, ...spec.extras };
      if (spec.field === 'drop-seq') delete doc.seq;
      else if (spec.field === 'extra') doc.extraField = spec.value;
      else doc[spec.field] = spec.value;
      return json(doc);
    }
    case 'bytes': {
      const bytes = [...json({ seq: next, ...spec.extras })];
      for (const { pos, op, byte } of spec.ops) {
        const at = bytes.length === 0 ? 0 : pos % bytes.length;
        if (op === 'flip') bytes[at] = (bytes[at] ?? 0) ^ (1 << (byte & 7));
        else if (op === 'insert') bytes.splice(at, 0, byte);
        else if (op === 'delete') bytes.splice(at, 1);
        else bytes.length = at;
      }
      return Buffer.from(bytes);
    }
    case 'random':
      return Buffer.from(spec.bytes);
    case 'text':
      return Buffer.from(spec.text, 'utf8');
    case 'json':
      return json(spec.value);
    case 'deep': {
      // ≤ 6 KB either way: over the 4 KiB payload limit sometimes, never over the packet guard's 8 KiB.
      const depth = spec.shape === 'array' ? spec.depth : Math.min(spec.depth, 1150);
      if (spec.shape === 'array') return Buffer.from('['.repeat(depth) + ']'.repeat(depth));
      if (spec.shape === 'object') return Buffer.from(`{"seq":${next},"x":` + '{"a":'.repeat(depth) + '1' + '}'.repeat(depth) + '}');
      return Buffer.from(`{"seq":${next},"metrics":` + '{"a":'.repeat(depth) + '1' + '}'.repeat(depth) + '}');
    }
    case 'number':
      return Buffer.from(`{"seq":${spec.literal}}`);
    case 'oversized':
      return Buffer.from(JSON.stringify({ seq: next, pad: 'x'.repeat(Math.max(0, spec.size - 30)) }));
    case 'proto':
      return spec.where === 'top'
        ? Buffer.from(`{"seq":${next},"${spec.key}":{"polluted":true}}`)
        : Buffer.from(`{"seq":${next},"metrics":{"${spec.key}":1}}`);
  }
}

export type TopicSpec =
  | { kind: 'own' }
  | { kind: 'other-device' }
  | { kind: 'own-suffix'; suffix: string }
  | { kind: 'random'; topic: string }
  | { kind: 'bytes'; raw: Uint8Array }
  | { kind: 'levels'; levels: number }
  | { kind: 'wildcard'; topic: string }
  | { kind: 'special'; topic: string };

export const topicSpecArb: fc.Arbitrary<TopicSpec> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: 'own' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'other-device' as const }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('own-suffix' as const), suffix: fc.constantFrom('/', '/x', ' ', '\u0000', '#', '/+', '\uFEFF', '/../heartbeat') }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('random' as const), topic: fc.string({ unit: 'grapheme', maxLength: 80 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('bytes' as const), raw: fc.uint8Array({ maxLength: 60 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('levels' as const), levels: fc.integer({ min: 9, max: 1000 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('wildcard' as const), topic: fc.constantFrom('#', '+', 'v1/devices/+/heartbeat', 'v1/#', 'v1/devices/#') }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('special' as const), topic: fc.constantFrom('', '$SYS/broker/uptime', '/', '//', 'v1/devices//heartbeat', 'V1/DEVICES/X/HEARTBEAT') }) },
);

export function renderTopic(spec: TopicSpec, ownId: string, otherId: string): Buffer {
  const own = `v1/devices/${ownId}/heartbeat`;
  switch (spec.kind) {
    case 'own':
      return Buffer.from(own);
    case 'other-device':
      return Buffer.from(`v1/devices/${otherId}/heartbeat`);
    case 'own-suffix':
      return Buffer.from(own + spec.suffix);
    case 'random':
    case 'wildcard':
    case 'special':
      return Buffer.from(spec.topic);
    case 'bytes':
      return Buffer.from(spec.raw);
    case 'levels':
      return Buffer.from(Array.from({ length: spec.levels }, () => 'a').join('/'));
  }
}

// ── store invariants ────────────────────────────────────────────────────────────────────────

const DAY_MS = 86_400_000;
const SHANGHAI_MS = 8 * 3600_000;

/** Asia/Shanghai day number (days since 1970-01-01 there) and minute of that day, computed here independently. */
export function shanghaiMinute(ms: number): { dayNumber: number; minute: number } {
  const local = ms + SHANGHAI_MS;
  const dayNumber = Math.floor(local / DAY_MS);
  return { dayNumber, minute: Math.floor((local - dayNumber * DAY_MS) / 60_000) };
}

function popcount(map: Uint8Array): number {
  let n = 0;
  for (const byte of map) {
    let b = byte;
    while (b) {
      n += b & 1;
      b >>= 1;
    }
  }
  return n;
}

/**
 * PRAGMA integrity_check is ok, and every device-day row is self-consistent: online minutes
 * (popcount) ≤ heartbeats, first ≤ last seen, both inside the row's Shanghai day, and the
 * minutes of first and last seen are set in the map. Returns the violations (empty = intact).
 */
export function storeViolations(db: Database.Database): string[] {
  const problems: string[] = [];
  const integrity = db.pragma('integrity_check', { simple: true });
  if (integrity !== 'ok') problems.push(`integrity_check: ${String(integrity)}`);
  const fk = db.pragma('foreign_key_check') as unknown[];
  if (fk.length) problems.push(`foreign_key_check: ${fk.length} rows`);
  const stored = db.prepare('SELECT day_number, device_key, minute_map, counters FROM telemetry_device_day').all() as {
    day_number: number;
    device_key: number;
    minute_map: Buffer;
    counters: Uint8Array;
  }[];
  for (const { counters, ...keys } of stored) {
    const c = decodeDayCounters(viewOf(counters));
    const r = { ...keys, heartbeats: c.heartbeats, first_seen: c.firstSeen, last_seen: c.lastSeen };
    if (c.deviceKey !== r.device_key || c.dayNumber !== r.day_number) problems.push(`device ${r.device_key} day ${r.day_number}: counters name device ${c.deviceKey} day ${c.dayNumber}`);
    if (c.onlineMinutes !== popcount(r.minute_map)) problems.push(`device ${r.device_key} day ${r.day_number}: ${c.onlineMinutes} online minutes stored, ${popcount(r.minute_map)} in the map`);
    const where = `device ${r.device_key} day ${r.day_number}`;
    const online = popcount(r.minute_map);
    if (online > r.heartbeats) problems.push(`${where}: ${online} online minutes > ${r.heartbeats} heartbeats`);
    if (online === 0) problems.push(`${where}: a row without any online minute`);
    if (r.first_seen > r.last_seen) problems.push(`${where}: first_seen after last_seen`);
    for (const [name, t] of [['first_seen', r.first_seen], ['last_seen', r.last_seen]] as const) {
      const { dayNumber, minute } = shanghaiMinute(t);
      if (dayNumber !== r.day_number) problems.push(`${where}: ${name} on day ${dayNumber}`);
      else if (!((r.minute_map[minute >> 3]! >> (minute & 7)) & 1)) problems.push(`${where}: ${name} minute ${minute} not in the map`);
    }
  }
  return problems;
}

/** Reads a counter's values by label from a prom-client registry's text exposition. */
export function counterValues(exposition: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^(\w+)(?:\{([^}]*)\})? ([\d.eE+-]+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    out.set(m[2] ?? '', Number(m[3]));
  }
  return out;
}
