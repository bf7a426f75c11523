import { randomBytes } from 'node:crypto';

/**
 * Gateway-assigned identifiers. Every id is URL- and MQTT-topic-safe: lowercase letters and
 * digits only after an underscore-separated prefix, so it can sit in a path segment, a topic
 * level (`v1/devices/{deviceId}/heartbeat`) and an MQTT client id without escaping.
 */
export type IdPrefix = 'sup' | 'ent' | 'ctr' | 'key' | 'edg';

/** RFC 4648 base32 alphabet, lowercased. */
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** `sup_`, `ent_`, `ctr_`, `key_` + 12 base32 chars (60 random bits). */
export function newId(prefix: IdPrefix): string {
  const bytes = randomBytes(12);
  let out = `${prefix}_`;
  for (const byte of bytes) out += BASE32[byte & 31];
  return out;
}

/**
 * Device ids are `d` + 16 lowercase hex chars (64 random bits): they serve as MQTT client id,
 * username and topic segment, so only [a-z0-9] is allowed; the leading letter keeps them from
 * being mistaken for numbers by JSON or CSV tooling.
 */
export function newDeviceId(): string {
  return `d${randomBytes(8).toString('hex')}`;
}

export const DEVICE_ID_RE = /^d[0-9a-f]{16}$/;
/** Edge node ids (`edg_` + 12 base32) are MQTT client ids and Sparkplug `edge_node_id` topic levels. */
export const EDGE_NODE_ID_RE = /^edg_[a-z2-7]{12}$/;

/** 128-bit device token, 32 lowercase hex chars (returned once, stored as SHA-256). */
export function newDeviceToken(): string {
  return randomBytes(16).toString('hex');
}

/** 256-bit API key: `gk_` + 43 base64url chars (returned once, stored as SHA-256). */
export function newApiKey(): string {
  return `gk_${randomBytes(32).toString('base64url')}`;
}
