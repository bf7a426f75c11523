/**
 * The reference: a bare aedes 1.2 broker — no authentication, no validation, no storage
 * (in-memory persistence, PUBACK as soon as aedes has handled the publish). Same listener,
 * same aedes options that matter for the load as the gateway (heartbeatInterval off, default
 * concurrency/queueLimit), so the difference measured is what the gateway adds.
 *
 *   node --expose-gc --import tsx bench/servers/bare-aedes.ts   (run by bench/run.ts with IPC)
 */
import { Aedes } from 'aedes';
import { createServer } from 'node:net';
import { LISTEN_BACKLOG } from '../../broker/create-broker.js';
import { serve } from './ipc.js';

let published = 0;
const aedes = await Aedes.createBroker({
  // Counting in the hook costs the same as the gateway's hook call; done() releases the PUBACK.
  authorizePublish(client, _packet, done) {
    if (client) published++;
    done(null);
  },
  heartbeatInterval: 24 * 3600_000,
});
const server = createServer((socket) => aedes.handle(socket));
// The gateway's accept queue, so the storm measures the brokers, not the kernel's SYN retries.
await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1', backlog: LISTEN_BACKLOG }, resolve));
const port = (server.address() as { port: number }).port;

serve({
  stats: () => ({ messages: published, connections: aedes.connectedClients }),
  async stop() {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await closed;
  },
});
process.send?.({ type: 'ready', port });
