/**
 * A local PostgreSQL server for tests, benchmarks and `npm run cluster`: Debian's PostgreSQL 15 (`initdb`, `pg_ctl`) on a free
 * port with its own temporary cluster, run as the `postgres` user when the tests run as root
 * (the server refuses to run as root). The unix socket lives in the cluster's directory, so
 * nothing touches /var/run/postgresql. `kill()` SIGKILLs the postmaster (an outage: what it
 * committed must survive); `restart()` starts the same cluster on the same port again.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, sleep } from './processes.js';

export const POSTGRES_BIN_DIR = process.env.POSTGRES_BIN_DIR ?? '/usr/lib/postgresql/15/bin';

export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` — the maintenance database; tests create their own. */
  url: string;
  port: number;
  dataDir: string;
  /** Stops the server (fast shutdown) and removes its cluster. */
  stop(): Promise<void>;
  /** SIGKILLs the postmaster now, keeping the cluster: an outage. */
  kill(): void;
  /** Starts the cluster again on the same port; resolves once it accepts connections. */
  restart(): Promise<void>;
  /** PIDs of the postmaster and its children (for CPU accounting from /proc). */
  pids(): number[];
}

export function postgresAvailable(): boolean {
  return existsSync(join(POSTGRES_BIN_DIR, 'initdb')) && existsSync(join(POSTGRES_BIN_DIR, 'pg_ctl'));
}

const asRoot = process.getuid?.() === 0;

/** Runs a PostgreSQL binary as the `postgres` user when we are root (initdb and postgres refuse root). */
function pgCommand(binary: string, args: string[]): { file: string; args: string[] } {
  const path = join(POSTGRES_BIN_DIR, binary);
  return asRoot ? { file: 'runuser', args: ['-u', 'postgres', '--', path, ...args] } : { file: path, args };
}

function run(binary: string, args: string[]): void {
  const { file, args: fullArgs } = pgCommand(binary, args);
  const result = spawnSync(file, fullArgs, { encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0) {
    throw new Error(`${binary} ${args.join(' ')} failed (${result.status ?? result.signal}):\n${result.stdout}\n${result.stderr}`);
  }
}

export async function startPostgres(options: { maxConnections?: number } = {}): Promise<PostgresServer> {
  const root = mkdtempSync(join(tmpdir(), 'gw-postgres-'));
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(root, uid, gid);
  }
  const dataDir = join(root, 'data');
  const port = await freePort();
  run('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8', '--no-instructions']);
  // Tests kill the server on purpose; fsync stays on so a kill -9 proves committed rows survive.
  const serverOptions = [
    `-p ${port}`,
    '-c listen_addresses=127.0.0.1',
    `-c unix_socket_directories=${root}`,
    `-c max_connections=${options.maxConnections ?? 200}`,
    '-c shared_buffers=64MB',
    '-c logging_collector=off',
  ].join(' ');
  const logFile = join(root, 'server.log');
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;

  const launch = async (): Promise<void> => {
    run('pg_ctl', ['-D', dataDir, '-l', logFile, '-o', serverOptions, '-w', '-t', '60', 'start']);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (isReady()) return;
      await sleep(100);
    }
    throw new Error(`PostgreSQL did not accept connections within 30 s:\n${tail(logFile)}`);
  };

  const isReady = (): boolean => {
    const { file, args } = pgCommand('pg_isready', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres']);
    return spawnSync(file, args, { stdio: 'ignore' }).status === 0;
  };

  const postmasterPid = (): number | undefined => {
    try {
      const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  };

  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  /** The postmaster and backends of a SIGKILLed server: all must be gone before the cluster starts again. */
  let killed: number[] = [];
  await launch();
  return {
    url,
    port,
    dataDir,
    kill() {
      const pid = postmasterPid();
      if (pid === undefined || !alive(pid)) return;
      // Its backends notice within moments that the postmaster is gone and exit by themselves.
      killed = [pid, ...childrenOf(pid)];
      process.kill(pid, 'SIGKILL');
    },
    async restart() {
      const pid = postmasterPid();
      if (pid !== undefined && alive(pid) && !killed.includes(pid)) run('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      // A new postmaster refuses to start while old backends still hold the shared memory.
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && killed.some(alive)) await sleep(50);
      killed = [];
      await launch();
    },
    async stop() {
      const pid = postmasterPid();
      if (pid !== undefined && alive(pid)) run('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop']);
      rmSync(root, { recursive: true, force: true });
    },
    pids() {
      const pid = postmasterPid();
      return pid === undefined ? [] : [pid, ...childrenOf(pid)];
    },
  };
}

/** Direct children of a process, from /proc (PostgreSQL's backends are the postmaster's children). */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-4000);
  } catch {
    return '(no log)';
  }
}
