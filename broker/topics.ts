/** MQTT topic names of the v1 interface (../shared/API.md), in one place. */
export function heartbeatTopic(deviceId: string): string {
  return `v1/devices/${deviceId}/heartbeat`;
}

/** Topics a device may subscribe to: its own command channel, never heartbeats. */
export function ownCommandTopicPrefix(deviceId: string): string {
  return `v1/devices/${deviceId}/commands/`;
}

export const MAX_TOPIC_LEVELS = 8;
