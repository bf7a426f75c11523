import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/** Resolves once the child has exited; SIGKILLs it after `ms` if it has not (used by the cluster launcher, test/support and bench/). */
export function exitedOrKilled(child: ChildProcess, ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** A TCP port on 127.0.0.1 that was free a moment ago (for local servers: influxd, PostgreSQL, HAProxy, gateway nodes). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
