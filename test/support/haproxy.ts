import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exitedOrKilled, sleep } from './process.js';

/**
 * Debian's HAProxy (2.6) as a test fixture: runs the given configuration in the foreground and
 * resolves once every listed frontend port accepts. The cluster launcher's renderer
 * (cluster/haproxy.ts) builds the production configuration; tests that need one particular
 * shape (a single server, a trusted or untrusted PROXY sender) write theirs.
 */
export interface TestHaproxy {
  output(): string;
  stop(): Promise<void>;
}

export async function startTestHaproxy(config: string, ports: number[], binary = '/usr/sbin/haproxy'): Promise<TestHaproxy> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-haproxy-'));
  const configFile = join(dir, 'haproxy.cfg');
  writeFileSync(configFile, config);
  const child = spawn(binary, ['-db', '-f', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  let spawnError: Error | undefined;
  child.once('error', (err) => (spawnError = err));
  const stop = async () => {
    child.kill('SIGTERM');
    await exitedOrKilled(child, 5000);
    rmSync(dir, { recursive: true, force: true });
  };
  for (let attempt = 0; ; attempt++) {
    if (spawnError) throw new Error(`haproxy could not start (${spawnError.message}); is Debian's haproxy installed?`);
    if (child.exitCode !== null) throw new Error(`haproxy exited:\n${out}`);
    if ((await Promise.all(ports.map(accepts))).every(Boolean)) break;
    if (attempt >= 200) {
      await stop();
      throw new Error(`haproxy did not listen on ${ports.join(', ')} within 10 s:\n${out}`);
    }
    await sleep(50);
  }
  return { output: () => out, stop };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
