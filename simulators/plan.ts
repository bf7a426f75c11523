import { SimDevice, type FleetStats, type FleetTarget } from './fleet.js';
import { planDevice, type PlannedDevice } from './event-queue.js';
import { deviceSchedule, loopbackAddress } from './profiles.js';
import type { Provisioned } from './provision.js';
import type { Scenario } from './scenario.js';

/** One simulated device with what a report needs to know about it. */
export interface DeviceInfo {
  id: string;
  serial: string;
  contract: string;
  fleetIndex: number;
  profile: string;
  source: string;
}

/**
 * Turns a scenario and its credentials into devices with schedules over [start, end).
 * Source addresses: one per device, or one per fleet for `shared` fleets and lock-step ones.
 */
export function buildPlan(
  scenario: Scenario,
  provisioned: Provisioned,
  options: { target: FleetTarget; stats: FleetStats; start: number; end: number },
): { devices: PlannedDevice[]; info: DeviceInfo[] } {
  const devices: PlannedDevice[] = [];
  const info: DeviceInfo[] = [];
  let nextSource = 0;
  let order = 0;
  for (const c of scenario.contracts) {
    c.fleets.forEach((fleet, fleetIndex) => {
      const creds = provisioned.fleets.find((f) => f.contract === c.name && f.fleetIndex === fleetIndex);
      if (!creds) throw new Error(`no credentials for fleet ${c.name}#${fleetIndex}`);
      const shared = fleet.source === 'shared' || fleet.profile === 'lockstep' || fleet.profile === 'one-process' ? loopbackAddress(nextSource++) : undefined;
      creds.devices.forEach((cred, deviceIndex) => {
        const source = shared ?? loopbackAddress(nextSource++);
        const device = new SimDevice({ id: cred.id, token: cred.token }, fleet.qos, source, options.target, options.stats);
        const schedule = deviceSchedule(fleet, { seed: scenario.seed, fleetId: `${c.name}/${fleetIndex}`, deviceIndex, start: options.start, end: options.end });
        devices.push(planDevice(device, order++, schedule));
        info.push({ id: cred.id, serial: cred.serial, contract: c.name, fleetIndex, profile: fleet.profile, source });
      });
    });
  }
  return { devices, info };
}
