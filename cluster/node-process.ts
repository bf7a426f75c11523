/**
 * One gateway node as a real process (`node --import tsx src/main.ts`, what `npm start` runs),
 * for the cluster launcher and for tests that kill it for real. Resolves once it printed
 * "gateway ready"; the ports it printed are where it listens.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

export interface NodeProcess {
  process: ChildProcess;
  httpUrl: string;
  mqttUrl: string;
  /** Everything it wrote to stdout and stderr. */
  output(): string;
  /** Resolves with the exit code once it has exited. */
  exited: Promise<number | null>;
  /** SIGKILL: no flush, no goodbye. */
  kill(): Promise<void>;
  /** SIGTERM and wait for a clean exit; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** `env` is the node's whole environment besides PATH (GATEWAY_* variables, src/config.ts). */
export async function spawnNode(env: Record<string, string>, startTimeoutMs = 30_000): Promise<NodeProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const ready = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start:\n${out}`)), startTimeoutMs);
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
  return {
    process: child,
    httpUrl: ready[1]!,
    mqttUrl: ready[2]!,
    output: () => out,
    exited,
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
