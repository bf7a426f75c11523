/** MQTT topic names of the v1 interface (../shared/API.md), in one place. */
export function heartbeatTopic(deviceId: string): string {
  return `v1/devices/${deviceId}/heartbeat`;
}

/** Topics a device may subscribe to: its own command channel, never heartbeats. */
export function ownCommandTopicPrefix(deviceId: string): string {
  return `v1/devices/${deviceId}/commands/`;
}

export const MAX_TOPIC_LEVELS = 8;

/**
 * Longest MQTT client id accepted (= device id, API.md). Device ids are far shorter; anything
 * longer is refused with CONNACK 2 before authentication [MQTT-3.1.3-9], and never logged whole.
 */
export const MAX_CLIENT_ID_LENGTH = 64;

/** A client id as it may appear in a log line: at most MAX_CLIENT_ID_LENGTH characters, with the rest's length. */
export function loggedId(id: string | null | undefined): string | undefined {
  if (id === null || id === undefined) return undefined;
  return id.length <= MAX_CLIENT_ID_LENGTH ? id : `${id.slice(0, MAX_CLIENT_ID_LENGTH)}…(+${id.length - MAX_CLIENT_ID_LENGTH} chars)`;
}
