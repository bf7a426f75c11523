import Database from 'better-sqlite3';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/clock.js';
import { shanghaiDay } from '../../../src/time/shanghai.js';
import {
  FUZZ_SEED,
  RawMqtt,
  counterValues,
  figure,
  judgeHeartbeat,
  payloadSpecArb,
  renderPayload,
  renderTopic,
  shanghaiMinute,
  sized,
  storeViolations,
  topicSpecArb,
  type Verdict,
} from '../../support/fuzz.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { seedContract, type SeededDevice } from '../../support/seed.js';

/**
 * Hostile heartbeats through a real broker connection (issue: fuzzing). Seeded and
 * reproducible: GW_FUZZ_SEED picks the seed, GW_FUZZ_MQTT_CASES / GW_FUZZ_TOPIC_CASES the sizes
 * (CI: 100,000 payloads + 3,000 topics; `npm run soak`: 1,000,000 + 30,000).
 *
 * Payload cases go out as QoS 0 in groups, each group closed by a QoS 1 barrier; the virtual
 * clock moves one minute per group only after the barrier's PUBACK, so every case's receive
 * minute is known. An independent oracle (test/support/fuzz.ts, written from API.md, not from
 * src/ingest) says which cases must count; afterwards the store must hold exactly those
 * minutes and heartbeats, every rejection must be counted under the oracle's reason, and the
 * database must be intact.
 */
const PAYLOAD_CASES = sized('GW_FUZZ_MQTT_CASES', 100_000, 1_000_000);
const TOPIC_CASES = sized('GW_FUZZ_TOPIC_CASES', 3_000, 30_000);
const LANES = 2;
const PER_LANE_GROUP = 40;
const T0 = Date.parse('2020-10-09T00:00:00+08:00');
const BARRIER = Buffer.from('{"barrier":true}');

interface DayExpect {
  minutes: Set<number>;
  heartbeats: number;
  first: number;
  last: number;
}

interface Lane {
  device: SeededDevice;
  topic: string;
  client: RawMqtt;
  session: { maxSeq: number };
  days: Map<number, DayExpect>;
  verdicts: Map<Verdict, number>;
}

let gw: TestGateway;
let clock: VirtualClock;
let dataDir: string;
let lanes: Lane[];
let other: SeededDevice;

async function connectLane(lane: Lane): Promise<void> {
  const id = lane.device.id;
  const { client, rc } = await RawMqtt.connect(gw.mqttPort, { clientId: id, username: id, password: lane.device.token });
  expect(rc, `CONNACK for ${id}`).toBe(0);
  lane.client = client;
  lane.session = { maxSeq: -1 }; // a new connection is a new session (src/ingest/session.ts)
}

function record(lane: Lane, verdict: Verdict, at: number): void {
  lane.verdicts.set(verdict, (lane.verdicts.get(verdict) ?? 0) + 1);
  if (verdict !== 'accepted') return;
  const { dayNumber, minute } = shanghaiMinute(at);
  let day = lane.days.get(dayNumber);
  if (!day) lane.days.set(dayNumber, (day = { minutes: new Set(), heartbeats: 0, first: at, last: at }));
  day.minutes.add(minute);
  day.heartbeats++;
  day.first = Math.min(day.first, at);
  day.last = Math.max(day.last, at);
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timeout: ${what}`)), ms).unref())]);
}

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  dataDir = mkdtempSync(join(tmpdir(), 'gw-fuzz-'));
  clock = new VirtualClock(T0);
  // Flood control is tested on its own (flood-control.test.ts); here it would only hide cases.
  gw = await startTestGateway({
    clock,
    dataDir,
    env: { GATEWAY_DEVICE_MAX_RATE_PER_MIN: '0', GATEWAY_CONN_RATE_PER_ADDR: '0', GATEWAY_FLAP_CONNECTS: '0' },
  });
  const seeded = await seedContract(gw, { devices: LANES + 1 });
  other = seeded.devices[LANES]!;
  lanes = [];
  for (const device of seeded.devices.slice(0, LANES)) {
    const lane = { device, topic: `v1/devices/${device.id}/heartbeat`, days: new Map(), verdicts: new Map() } as unknown as Lane;
    await connectLane(lane);
    lanes.push(lane);
  }
});

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  for (const lane of lanes ?? []) lane.client?.destroy();
  await gw?.close().catch(() => undefined);
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('MQTT fuzzing through a real broker connection', () => {
  it(`rejects every bad payload and topic with its reason and counts exactly the valid heartbeats`, async () => {
    const started = performance.now();
    let minute = 0;
    let payloads = 0;
    let topics = 0;
    let reconnects = 0;

    // Phase 1: payloads, QoS 0 in groups, a QoS 1 barrier closing each group.
    while (payloads < PAYLOAD_CASES) {
      clock.set(T0 + minute * 60_000 + 7_000 + (minute % 40) * 1000);
      const at = clock.now();
      const specs = fc.sample(payloadSpecArb, { seed: FUZZ_SEED + minute, numRuns: PER_LANE_GROUP * LANES });
      await Promise.all(
        lanes.map(async (lane, l) => {
          for (const spec of specs.slice(l * PER_LANE_GROUP, (l + 1) * PER_LANE_GROUP)) {
            const bytes = renderPayload(spec, lane.session.maxSeq);
            record(lane, judgeHeartbeat(bytes, lane.session), at);
            lane.client.publish0(lane.topic, bytes);
          }
          const outcome = await withTimeout(lane.client.publish1(lane.topic, BARRIER), 10_000, `barrier of minute ${minute}`);
          expect(outcome, `barrier of minute ${minute}`).toBe('acked');
          record(lane, 'invalid-payload', at);
          // Byte mutations can push seq towards 2^53; start a fresh session before that happens.
          if (lane.session.maxSeq > 1e12) {
            await lane.client.end();
            await connectLane(lane);
            reconnects++;
          }
        }),
      );
      payloads += specs.length;
      minute++;
    }

    // Phase 2: topics. A refused topic closes the connection [MQTT-3.3.5-2], so each case
    // is published alone at QoS 1 and either acknowledged (own topic, valid heartbeat) or closed.
    const topicSpecs = fc.sample(topicSpecArb, { seed: FUZZ_SEED + 7, numRuns: TOPIC_CASES });
    for (let i = 0; i < topicSpecs.length; i += LANES) {
      clock.set(T0 + minute * 60_000 + 11_000);
      const at = clock.now();
      await Promise.all(
        lanes.map(async (lane, l) => {
          const spec = topicSpecs[i + l];
          if (!spec) return;
          const topic = renderTopic(spec, lane.device.id, other.id);
          const own = topic.equals(Buffer.from(lane.topic));
          const bytes = Buffer.from(JSON.stringify({ seq: lane.session.maxSeq + 1 }));
          const outcome = await withTimeout(lane.client.publish1(topic, bytes), 10_000, `topic case ${i + l}`);
          expect(outcome, `topic ${JSON.stringify(topic.toString('latin1').slice(0, 80))}`).toBe(own ? 'acked' : 'closed');
          if (own) record(lane, judgeHeartbeat(bytes, lane.session), at);
          else {
            await connectLane(lane);
            reconnects++;
          }
        }),
      );
      topics += LANES;
      minute++;
    }

    // Honest traffic still works after all of it.
    for (const lane of lanes) {
      const bytes = Buffer.from(JSON.stringify({ seq: lane.session.maxSeq + 1, status: 'running' }));
      expect(await lane.client.publish1(lane.topic, bytes)).toBe('acked');
      record(lane, judgeHeartbeat(bytes, lane.session), clock.now());
      await lane.client.end();
    }
    await gw.gateway.flush();

    // Device timestamps anywhere from year 1 to 9999 (fuzz.ts EDGE_INSTANTS) are evidence of skew, never a failing report.
    for (const lane of lanes) {
      for (const accept of ['application/json', 'text/csv']) {
        const res = await gw.api(`/v1/contracts/${lane.device.contractId}/verification`, { headers: { accept } });
        expect(res.status, `${accept} report of ${lane.device.contractId}: ${await res.clone().text()}`).toBe(200);
      }
    }

    // The store holds exactly the oracle's minutes, counts and first/last seen.
    const fromDay = shanghaiDay(T0);
    const toDay = shanghaiDay(clock.now());
    for (const lane of lanes) {
      const rows = await gw.gateway.store.dailyActivity([lane.device.id], fromDay, toDay);
      const actual = new Map(rows.map((r) => [shanghaiMinute(Date.parse(`${r.day}T12:00:00+08:00`)).dayNumber, r]));
      expect([...actual.keys()].sort(), `days of ${lane.device.id}`).toEqual([...lane.days.keys()].sort());
      for (const [dayNumber, want] of lane.days) {
        const row = actual.get(dayNumber)!;
        const minutes = new Set<number>();
        for (let m = 0; m < 1440; m++) if ((row.minuteMap![m >> 3]! >> (m & 7)) & 1) minutes.add(m);
        expect([...minutes].sort((a, b) => a - b), `minutes of ${lane.device.id} on ${row.day}`).toEqual([...want.minutes].sort((a, b) => a - b));
        expect({ heartbeats: row.heartbeats, firstSeen: row.firstSeen, lastSeen: row.lastSeen }).toEqual({
          heartbeats: want.heartbeats,
          firstSeen: want.first,
          lastSeen: want.last,
        });
      }
    }

    // Every rejection counted under the oracle's reason (metrics), and nothing else accepted.
    const totals = new Map<Verdict, number>();
    for (const lane of lanes) for (const [v, n] of lane.verdicts) totals.set(v, (totals.get(v) ?? 0) + n);
    const exposition = await gw.gateway.metrics.registry.metrics();
    const rejected = counterValues(exposition, 'gateway_heartbeats_rejected_total');
    const accepted = counterValues(exposition, 'gateway_heartbeats_accepted_total').get('') ?? 0;
    // Every reason is exposed from the start at 0; the ones that happened must match the oracle exactly.
    const byReason = Object.fromEntries([...rejected].filter(([, n]) => n > 0).map(([labels, n]) => [/reason="([^"]+)"/.exec(labels)![1]!, n]));
    const expectedByReason = Object.fromEntries([...totals].filter(([v]) => v !== 'accepted'));
    expect(byReason).toEqual(expectedByReason);
    expect(accepted).toBe(totals.get('accepted') ?? 0);
    // The seeding's honest devices aside, nothing but the lanes published.
    expect(counterValues(exposition, 'gateway_mqtt_publish_denied_total').get('reason="wrong-topic"') ?? 0).toBeLessThanOrEqual(topics);

    const seconds = (performance.now() - started) / 1000;
    await gw.close();

    // Per-device rejection evidence matches too, and the file is intact.
    const db = new Database(join(dataDir, 'gateway.db'), { readonly: true });
    try {
      expect(storeViolations(db)).toEqual([]);
      for (const lane of lanes) {
        const stored = db.prepare('SELECT reason, sum(count) AS n FROM evidence_rejection WHERE device_id = ? GROUP BY reason').all(lane.device.id) as { reason: string; n: number }[];
        expect(Object.fromEntries(stored.map((r) => [r.reason, r.n]))).toEqual(Object.fromEntries([...lane.verdicts].filter(([v]) => v !== 'accepted')));
      }
    } finally {
      db.close();
    }
    expect(unhandled).toEqual([]);
    figure('mqtt fuzz', {
      seed: FUZZ_SEED,
      payloadCases: payloads,
      topicCases: topics,
      accepted: totals.get('accepted'),
      rejectedByReason: expectedByReason,
      reconnects,
      seconds: Math.round(seconds),
    });
  }, 900_000);
});
