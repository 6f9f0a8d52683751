import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { freePort } from '../../test/harness/ports.js';

/**
 * The processes a fault night runs on, each started by this harness and no
 * one else's: a PostgreSQL cluster of its own (initdb into a temporary
 * folder, run as the system user `postgres` when we are root), redis-server
 * instances of their own, and the service's roles as child processes
 * (`node bin/ews.js serve --role …`). Every process is registered so that it
 * is stopped on any exit of the harness (normal, error, SIGINT/SIGTERM,
 * vitest's afterAll), never by name.
 */

const live = new Set<{ kill(): void }>();
const folders = new Set<string>();
let hooked = false;

/** Stops every registered process now (synchronously: usable from an 'exit' hook), then removes the folders registered with removeOnExit. */
export function killEverything(): void {
  for (const p of [...live]) {
    try {
      p.kill();
    } catch {
      // already gone
    }
  }
  live.clear();
  for (const dir of [...folders]) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    } catch {
      // a process still writing: left for the next run
    }
    folders.delete(dir);
  }
}

/** A folder to remove however the harness ends. */
export function removeOnExit(dir: string): void {
  hookExit();
  folders.add(dir);
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', killEverything);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killEverything();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}

function register(entry: { kill(): void }): () => void {
  hookExit();
  live.add(entry);
  return () => live.delete(entry);
}

export { freePort };

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until check() holds; false when the deadline passed first. */
export async function waitFor(check: () => Promise<boolean> | boolean, ms: number, every = 50): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      if (await check()) return true;
    } catch {
      // a check that cannot run yet (server restarting) is a "not yet"
    }
    if (Date.now() > deadline) return false;
    await sleep(every);
  }
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((done) => {
    const timer = setTimeout(() => done(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      done(true);
    });
  });
}

// ---------------------------------------------------------------- PostgreSQL

const PG_BIN_DIRS = ['/usr/lib/postgresql'];

/** The newest installed PostgreSQL's bin folder (initdb and postgres), or PATH. */
function pgBin(): string {
  for (const base of PG_BIN_DIRS) {
    if (!existsSync(base)) continue;
    const versions = readdirSync(base).filter((v) => /^\d+$/.test(v) && existsSync(join(base, v, 'bin', 'postgres'))).sort((a, b) => Number(b) - Number(a));
    if (versions[0] !== undefined) return join(base, versions[0], 'bin');
  }
  const which = spawnSync('sh', ['-c', 'dirname "$(command -v initdb)"'], { encoding: 'utf8' });
  const dir = which.stdout.trim();
  if (which.status === 0 && dir !== '' && existsSync(join(dir, 'postgres'))) return dir;
  throw new Error('no PostgreSQL server programs found (initdb, postgres): install postgresql');
}

/** The uid/gid to run PostgreSQL as: ours, or the system user `postgres` when we are root (initdb refuses root). */
function pgUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const r = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (r.status !== 0 || g.status !== 0) throw new Error('running as root, and there is no system user "postgres" to run PostgreSQL as');
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

export interface PgCluster {
  readonly port: number;
  /** postgres://postgres@127.0.0.1:<port>/<database> */
  url(database: string): string;
  /** A fast shutdown (SIGINT: what `pg_ctl -m fast stop` sends) then a start on the same port and data. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  readonly log: string;
}

/** initdb into `dir` (created; handed to the postgres user when we are root) and start the server on a free port. */
export async function startPgCluster(dir: string): Promise<PgCluster> {
  const bin = pgBin();
  const user = pgUser();
  mkdirSync(dir, { recursive: true });
  if (user !== undefined) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const log = join(dir, 'postgres.log');
  const ids = user !== undefined ? { uid: user.uid, gid: user.gid } : {};
  const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LANG: 'C', LC_ALL: 'C', HOME: dir };
  const init = spawnSync(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync'], { ...ids, env, cwd: dir, encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);
  const port = await freePort();
  let child: ChildProcess | undefined;
  let unregister: () => void = () => undefined;

  const start = async (): Promise<void> => {
    const fd = openSync(log, 'a');
    if (user !== undefined) chownSync(log, user.uid, user.gid);
    const c = spawn(
      join(bin, 'postgres'),
      [
        '-D', data, '-p', String(port),
        '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dir}`,
        // Speed over durability: this cluster lives for one run. A fast shutdown still checkpoints and a restart still drops every connection.
        '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
        '-c', 'max_connections=300', '-c', 'shared_buffers=256MB', '-c', 'max_wal_size=4GB', '-c', 'log_min_messages=warning',
      ],
      { ...ids, env, cwd: dir, stdio: ['ignore', fd, fd] },
    );
    closeSync(fd);
    child = c;
    unregister();
    // SIGQUIT: immediate shutdown, the server's children go with it.
    unregister = register({ kill: () => void (exited(c) ? undefined : c.kill('SIGQUIT')) });
    const up = await waitFor(async () => {
      if (exited(c)) throw new Error('postgres exited');
      const client = new pg.Client({ connectionString: url('postgres'), connectionTimeoutMillis: 1000 });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.query('SELECT 1');
        return true;
      } catch {
        return false;
      } finally {
        await client.end().catch(() => undefined);
      }
    }, 60_000, 100);
    if (!up || exited(c)) throw new Error(`postgres did not start on port ${port}: ${tail(log)}`);
  };
  const stop = async (): Promise<void> => {
    const c = child;
    if (c === undefined || exited(c)) return;
    c.kill('SIGINT');
    if (!(await waitExit(c, 30_000))) {
      c.kill('SIGQUIT');
      await waitExit(c, 10_000);
    }
    unregister();
  };
  const url = (database: string): string => `postgres://postgres@127.0.0.1:${port}/${database}`;
  await start();
  return {
    port,
    url,
    log,
    restart: async () => {
      await stop();
      await start();
    },
    stop,
  };
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

// ---------------------------------------------------------------- Redis

export type RedisPersistence = 'aof' | 'none';

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly persistence: RedisPersistence;
  /** Stops (SIGTERM: with AOF, the file is flushed) and starts again on the same port and folder. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A redis-server of our own on a free port: AOF (appendfsync everysec, as
 * production is told to run it) or no persistence at all; `extra` arguments
 * come last and win (a test's eviction policy, say).
 */
export async function startRedis(dir: string, persistence: RedisPersistence, extra: readonly string[] = []): Promise<RedisServer> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
    '--maxmemory-policy', 'noeviction',
    ...(persistence === 'aof' ? ['--appendonly', 'yes', '--appendfsync', 'everysec'] : ['--appendonly', 'no']),
    ...extra,
  ];
  let child: ChildProcess | undefined;
  let unregister: () => void = () => undefined;
  const start = async (): Promise<void> => {
    const c = spawn('redis-server', args, { stdio: 'ignore' });
    child = c;
    unregister();
    unregister = register({ kill: () => void (exited(c) ? undefined : c.kill('SIGKILL')) });
    const up = await waitFor(async () => {
      if (exited(c)) throw new Error('redis-server exited');
      const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      r.on('error', () => undefined);
      try {
        await r.connect();
        // With AOF, LOADING answers an error until the file is read back.
        return (await r.ping()) === 'PONG';
      } catch {
        return false;
      } finally {
        r.disconnect();
      }
    }, 20_000, 50);
    if (!up || exited(c)) throw new Error(`redis-server did not start on port ${port}`);
  };
  const stop = async (): Promise<void> => {
    const c = child;
    if (c === undefined || exited(c)) return;
    c.kill('SIGTERM');
    if (!(await waitExit(c, 10_000))) {
      c.kill('SIGKILL');
      await waitExit(c, 5_000);
    }
    unregister();
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    persistence,
    restart: async () => {
      await stop();
      await start();
    },
    stop,
  };
}

// ---------------------------------------------------------------- the service's roles

export interface RoleProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly log: string;
  /** Still running. */
  alive(): boolean;
  /** How it ended: "exit 1", "SIGKILL"; undefined while running. */
  ended(): string | undefined;
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>;
  /** SIGTERM (graceful), then SIGKILL after `ms`. */
  stop(ms?: number): Promise<void>;
  /** The last lines of its output. */
  tail(lines?: number): string;
  /** Whether the harness killed it on purpose. */
  readonly killedByHarness: boolean;
}

/** `node bin/ews.js serve --role <role>` with the given environment; output to `log`. */
export function startRole(bin: string, name: string, role: string, env: Record<string, string>, log: string): RoleProcess {
  const fd = openSync(log, 'a');
  const child = spawn(process.execPath, [bin, 'serve', '--role', role], { env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const unregister = register({ kill: () => void (exited(child) ? undefined : child.kill('SIGKILL')) });
  child.once('exit', () => unregister());
  let killed = false;
  return {
    name,
    child,
    log,
    alive: () => !exited(child),
    ended: () => (child.signalCode !== null ? child.signalCode : child.exitCode !== null ? `exit ${child.exitCode}` : undefined),
    get killedByHarness() {
      return killed;
    },
    async kill() {
      killed = true;
      if (exited(child)) return;
      child.kill('SIGKILL');
      await waitExit(child, 10_000);
    },
    async stop(ms = 5_000) {
      killed = true;
      if (exited(child)) return;
      child.kill('SIGTERM');
      if (!(await waitExit(child, ms))) {
        child.kill('SIGKILL');
        await waitExit(child, 5_000);
      }
    },
    tail: (lines = 20) => tail(log, lines),
  };
}

/** Removes a folder the harness made (after its processes are gone). */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  folders.delete(dir);
}
