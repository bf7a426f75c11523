/**
 * The gateway under test, in its own process: `startLocalGateway` with the bench's environment
 * (GATEWAY_* from the parent), `BENCH_DEVICES` devices seeded through the registry, their
 * credentials written to a temp JSON file for the load generator.
 *
 *   node --expose-gc --import tsx bench/servers/gateway-server.ts   (run by bench/run.ts with IPC)
 *
 * Profile it with `node --cpu-prof --import tsx bench/servers/gateway-server.ts` (see BENCHMARKS.md).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startLocalGateway } from '../../src/provisioning/index.js';
import { serve } from './ipc.js';
import { seedContract, seedSupplier, type BenchDevice } from './seed-registry.js';

const devices = Number(process.env.BENCH_DEVICES ?? 5000);
const local = await startLocalGateway({ env: { GATEWAY_LOG_LEVEL: 'silent', ...process.env } });
const { gateway, dataDir } = local;

const seedStarted = performance.now();
const supplierId = await seedSupplier(gateway.registry);
const credentials: BenchDevice[] = [];
// Contracts of at most 5,000 devices, as a supplier would register them.
for (let left = devices; left > 0; left -= 5000) credentials.push(...(await seedContract(gateway.registry, supplierId, Math.min(5000, left))).devices);
const seedMs = performance.now() - seedStarted;
const credentialsFile = join(dataDir, 'credentials.json');
writeFileSync(credentialsFile, JSON.stringify(credentials));
// bench/edge.ts: BENCH_EDGE_DEVICES devices of their own contract bound to one edge node, in edge.json beside the credentials.
const edgeDevices = Number(process.env.BENCH_EDGE_DEVICES ?? 0);
if (edgeDevices > 0) {
  const { contractId, devices: children } = await seedContract(gateway.registry, supplierId, edgeDevices);
  const node = await gateway.registry.edgeNodes.create(contractId, { name: 'bench edge gateway', devices: children.map((d) => d.id) }, 'bench');
  writeFileSync(join(dataDir, 'edge.json'), JSON.stringify({ id: node.id, token: node.token, devices: children.map((d) => d.id) }));
}

// heartbeatsAccepted grows by each batch's size once that batch is durable (gateway.ts onCommit).
const committed = async () => (await gateway.metrics.heartbeatsAccepted.get()).values.reduce((sum, v) => sum + v.value, 0);

serve({
  stats: async () => ({ messages: await committed(), connections: gateway.broker.aedes.connectedClients }),
  async stop() {
    await local.close();
  },
});
process.send?.({ type: 'ready', port: gateway.mqttPort, credentialsFile, devices: credentials.length, seedMs });
