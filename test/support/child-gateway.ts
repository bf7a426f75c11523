import { spawnNode, type NodeProcess } from '../../cluster/node-process.js';
import { TEST_ADMIN_KEY } from './gateway.js';

export interface ChildGateway extends NodeProcess {
  json<T = any>(path: string, init?: { method?: string; body?: unknown }): Promise<T>;
}

/**
 * The real gateway process (`tsx src/main.ts`, as `npm start` runs it) on free ports, for
 * tests that kill it for real. Resolves once it printed "gateway ready".
 */
export async function spawnGateway(dataDir: string, env: Record<string, string> = {}): Promise<ChildGateway> {
  const node = await spawnNode({
    GATEWAY_HTTP_PORT: '0',
    GATEWAY_MQTT_PORT: '0',
    GATEWAY_DATA_DIR: dataDir,
    GATEWAY_ADMIN_KEY: TEST_ADMIN_KEY,
    GATEWAY_LOG_LEVEL: 'warn',
    ...env,
  });
  const { httpUrl } = node;
  return {
    ...node,
    async json(path, init = {}) {
      const res = await fetch(httpUrl + path, {
        method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
        headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, 'content-type': 'application/json' },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${path} → ${res.status}: ${text}`);
      return JSON.parse(text);
    },
  };
}
