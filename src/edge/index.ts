/** Edge gateways (issue 20): Sparkplug B and the JSON batch over one edge node's connection. */
export { createEdgeSession, type EdgeLiveStatus, type EdgeSession } from './edge-session.js';
export { encodeSparkplug } from './sparkplug.js';

/**
 * Largest packet an authenticated edge connection may send: a 256 KiB JSON batch plus its
 * topic and header. Every other connection keeps the 8 KiB limit (broker/packet-guard.ts); the
 * limit is raised only after CONNECT authenticated the edge node.
 */
export const EDGE_MAX_PACKET_BYTES = 256 * 1024 + 1024;
