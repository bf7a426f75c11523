import type { ChildProcess } from 'node:child_process';

/** Resolves once the child has exited; SIGKILLs it after `ms` if it has not (used by test/support/influxd.ts and bench/). */
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
