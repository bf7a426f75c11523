import { withFleet } from '../bench/harness.js';
import { createDatabase, startPostgres } from '../test/support/postgres.js';
const pgServer = await startPostgres();
try {
  const url = await createDatabase(pgServer.url, 'prof_storm');
  await withFleet({ kind: 'gateway', devices: 10_000, loaders: 2, load: 'connector', spec: { sources: 100 }, gatewayEnv: { GATEWAY_DATABASE_URL: url }, }, async (server, loads) => {
    await Promise.all(loads.map((l) => l.next('connected')));
    for (const l of loads) l.send({ type: 'go', durationMs: 0 });
    const results = await Promise.all(loads.map((l) => l.next('storm', 300_000)));
    console.log('connected', results.reduce((s: number, r: any) => s + r.connected, 0));
  });
} finally {
  await pgServer.stop();
}
