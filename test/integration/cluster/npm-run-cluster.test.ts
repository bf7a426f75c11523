/**
 * `npm run cluster` (issue 17 point 5): one command starts PostgreSQL, the gateway nodes and
 * HAProxy, prints the addresses and the admin key; SIGTERM stops everything it started.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { sleep } from '../../support/process.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm run cluster', () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cluster/cli.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', CLUSTER_NODES: '2', GATEWAY_MQTT_PORT: '0', GATEWAY_HTTP_PORT: '0', GATEWAY_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  afterAll(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });

  it('starts two nodes behind HAProxy, prints the admin key, and stops everything on SIGTERM', async () => {
    for (let waited = 0; !out.includes('Ctrl-C stops everything.'); waited += 100) {
      if (child.exitCode !== null || waited > 90_000) throw new Error(`npm run cluster did not start:\n${out}`);
      await sleep(100);
    }
    const httpUrl = /cluster ready: (http:\/\/\S+?)\/ /.exec(out)![1]!;
    const key = /admin API key \(generated[^)]*\): (\S+)/.exec(out)![1]!;
    const nodePids = [...out.matchAll(/node-\d: pid (\d+)/g)].map((m) => Number(m[1]));
    const postgresUrl = /PostgreSQL: (\S+) \(temporary/.exec(out)![1]!;
    expect(nodePids).toHaveLength(2);

    // Through HAProxy: the API is balanced round robin over both nodes, and each lists both.
    const answeredBy = new Set<string>();
    for (let i = 0; i < 4; i++) answeredBy.add(((await (await fetch(`${httpUrl}/healthz`)).json()) as { node: string }).node);
    expect([...answeredBy].sort()).toEqual(['node-1', 'node-2']);
    const listed = (await (await fetch(`${httpUrl}/v1/cluster/nodes`, { headers: { authorization: `Bearer ${key}` } })).json()) as { nodes: Array<{ id: string; pid: number }> };
    expect(listed.nodes.map((n) => [n.id, n.pid])).toEqual([
      ['node-1', nodePids[0]],
      ['node-2', nodePids[1]],
    ]);
    // The admin key is the one printed; a wrong one is refused.
    expect((await fetch(`${httpUrl}/v1/cluster/nodes`, { headers: { authorization: 'Bearer not-the-key-0123456789' } })).status).toBe(401);

    const haproxyPid = Number(/haproxy pid (\d+)/.exec(out)![1]);
    const postgresDir = /PostgreSQL data: (\S+)/.exec(out)![1]!;
    for (const pid of [...nodePids, haproxyPid]) expect(alive(pid)).toBe(true);
    expect(existsSync(postgresDir)).toBe(true);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    for (const pid of [...nodePids, haproxyPid]) expect(alive(pid)).toBe(false);
    expect(existsSync(postgresDir)).toBe(false);
    await expect(fetch(`${httpUrl}/healthz`)).rejects.toThrow();
    expect(postgresUrl).toMatch(/^postgres:\/\//);
  });
});
