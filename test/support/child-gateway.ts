import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TEST_ADMIN_KEY } from './gateway.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ChildGateway {
  process: ChildProcess;
  httpUrl: string;
  mqttUrl: string;
  output(): string;
  json<T = any>(path: string, init?: { method?: string; body?: unknown }): Promise<T>;
  /** SIGKILL: no flush, no goodbye. */
  kill(): Promise<void>;
  /** SIGTERM and wait for a clean exit; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/**
 * The real gateway process (`tsx src/main.ts`, as `npm start` runs it) on free ports, for
 * tests that kill it for real. Resolves once it printed "gateway ready".
 */
export async function spawnGateway(dataDir: string, env: Record<string, string> = {}): Promise<ChildGateway> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      GATEWAY_HTTP_PORT: '0',
      GATEWAY_MQTT_PORT: '0',
      GATEWAY_DATA_DIR: dataDir,
      GATEWAY_ADMIN_KEY: TEST_ADMIN_KEY,
      GATEWAY_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const ready = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start:\n${out}`)), 30_000);
    const check = () => {
      const m = /gateway ready: (http:\/\/\S+?)\/ {2}(mqtt:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code}:\n${out}`));
    });
  });
  const httpUrl = ready[1]!;
  return {
    process: child,
    httpUrl,
    mqttUrl: ready[2]!,
    output: () => out,
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
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}
