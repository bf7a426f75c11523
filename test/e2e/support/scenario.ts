import type mqtt from 'mqtt';
import { VirtualClock } from '../../../src/clock.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { connectDevice, heartbeat } from '../../support/mqtt-devices.js';
import { seedContract, type SeededContract, type SeededDevice } from '../../support/seed.js';

/**
 * The virtual-time scenario the web page is tested against, seeded through the real API and
 * driven over real MQTT:
 *
 * - contract A (supplier 甲, 佛山 70%, #5): 6,428.58 yuan × 70% = 4,500 yuan → ⌈4500/1500⌉ = 3
 *   required; 4 devices, 3 online 61 minutes a day for 21 days, 1 never seen → passes 3/3.
 * - contract B (supplier 乙, whose name carries markup; 汕头 80%, #25): 2,000 yuan × 80% = 1,600 yuan → ⌈1600/800⌉ = 2
 *   required; 2 devices, one 21 days, one only the first 10 days → fails 1/2.
 * - contract C (supplier 甲, 广州, #6): no device threshold, no devices.
 *
 * A's third device stamps its heartbeats ten minutes ahead (CLOCK_SKEW on a counted device: the
 * fraud signal a reviewer acknowledges before approving A's redemption).
 *
 * Each simulated day, 09:00–10:00 Shanghai (61 distinct minutes ≥ the 60-minute threshold), the
 * clock is set to the minute and every device still scheduled publishes one QoS 1 heartbeat;
 * all PUBACKs are awaited before the clock moves on. Verification happens on day 21 at 20:00.
 */
/** Markup in a name must show as text, never become markup (the page uses textContent only). */
export const SUPPLIER_B_NAME = '供应商乙 <img src=x onerror="window.__xss=1">';
export const SCENARIO_START = Date.parse('2020-11-01T00:00:00+08:00');
export const SCENARIO_DAYS = 21;
const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

export interface Scenario {
  gw: TestGateway;
  clock: VirtualClock;
  a: SeededContract;
  b: SeededContract;
  c: SeededContract;
  /** Verification time: day 21, 20:00 Shanghai. */
  at: number;
}

export async function startScenario(): Promise<Scenario> {
  const clock = new VirtualClock(SCENARIO_START);
  const gw = await startTestGateway({ clock, env: { GATEWAY_COMMIT_INTERVAL_MS: '0' } });
  try {
    const a = await seedContract(gw, { devices: 4, catalogId: 5, contractAmountFen: 642_858, city: '佛山', supplierName: '供应商甲' });
    const b = await seedContract(gw, { devices: 2, catalogId: 25, contractAmountFen: 200_000, city: '汕头', supplierName: SUPPLIER_B_NAME });
    const c = await seedContract(gw, { devices: 0, catalogId: 6, contractAmountFen: 1_000_000, city: '广州', supplierId: a.supplierId });
    await drive(gw, clock, [
      { device: a.devices[0]!, days: SCENARIO_DAYS },
      { device: a.devices[1]!, days: SCENARIO_DAYS },
      { device: a.devices[2]!, days: SCENARIO_DAYS, skewMs: 600_000 },
      { device: b.devices[0]!, days: SCENARIO_DAYS },
      { device: b.devices[1]!, days: 10 },
    ]);
    const at = SCENARIO_START + (SCENARIO_DAYS - 1) * DAY_MS + 20 * 3_600_000;
    clock.set(at);
    return { gw, clock, a, b, c, at };
  } catch (err) {
    await gw.close();
    throw err;
  }
}

async function drive(gw: TestGateway, clock: VirtualClock, plan: Array<{ device: SeededDevice; days: number; skewMs?: number }>): Promise<void> {
  // Each device from its own loopback address, as separate machines would be (no lock-step source).
  const clients: mqtt.MqttClient[] = [];
  try {
    for (const [i, p] of plan.entries()) clients.push(await connectDevice(gw.mqttPort, p.device, { localAddress: `127.0.1.${i + 1}` }));
    const seq = plan.map(() => 0);
    for (let day = 0; day < SCENARIO_DAYS; day++) {
      for (let minute = 9 * 60; minute <= 10 * 60; minute++) {
        const now = SCENARIO_START + day * DAY_MS + minute * MINUTE_MS;
        clock.set(now);
        await Promise.all(
          plan.map((p, i) =>
            day < p.days ? heartbeat(clients[i]!, p.device.id, { seq: ++seq[i]!, ...(p.skewMs ? { ts: new Date(now + p.skewMs).toISOString() } : {}) }) : undefined,
          ),
        );
      }
    }
  } finally {
    await Promise.all(clients.map((c) => c.endAsync()));
  }
}
