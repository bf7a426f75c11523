import type { Actor, Device, Devices, IssuedDevice } from '../registry/index.js';

/** Closes a device's live MQTT session wherever it is held (this node's broker; other nodes through the session rows). */
export interface SessionCloser {
  disconnect(deviceId: string): Promise<void>;
}

export interface DeviceCredentialDeps {
  devices: Pick<Devices, 'rotateToken' | 'setEnabled'>;
  sessions: SessionCloser;
}

/**
 * Rotates a device's token and drops the session opened with the old one: a leaked token must
 * stop working at once, not at the device's next reconnect (SECURITY.md "Leaked device token").
 */
export async function rotateDeviceToken(deps: DeviceCredentialDeps, deviceId: string, actor: Actor): Promise<IssuedDevice> {
  const issued = await deps.devices.rotateToken(deviceId, actor);
  await deps.sessions.disconnect(deviceId);
  return issued;
}

/** Enables or disables a device; disabling also drops its live session (it is refused at CONNECT from then on). */
export async function setDeviceEnabled(deps: DeviceCredentialDeps, deviceId: string, enabled: boolean, actor: Actor): Promise<Device> {
  const device = await deps.devices.setEnabled(deviceId, enabled, actor);
  if (!enabled) await deps.sessions.disconnect(deviceId);
  return device;
}
