import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../config/config.schema.js';
import type { AuthService } from '../services/access/auth.service.js';
import { startApiServer, type ApiServer } from '../services/api/server.js';
import type { Database } from '../services/db/database.js';
import { authOf } from './harness/api-login.js';
import { createTestDatabase } from './harness/db.js';
import { databaseUrl } from './harness/env.js';
import { captureLogger } from './harness/log.js';

/**
 * `ews users add|list|disable|enable|reset` and `ews tokens create|list|revoke`
 * as scripts run them: the real command in a child process, a password on
 * stdin, the token on the last line, exit code 2 and a clear message for
 * every bad input, and no full e-mail address in any listing.
 */

const BIN = fileURLToPath(new URL('../bin/ews.js', import.meta.url));
let database: Database & { name: string };
let auth: AuthService;
let api: ApiServer;

beforeAll(async () => {
  database = await createTestDatabase();
  const config = configSchema.parse({});
  auth = authOf(config, database);
  api = await startApiServer({ config, database, queues: [], log: captureLogger().log }, { port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await api.close();
  await database.close();
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The real command in a child process, with `stdin` as its standard input. */
function ews(args: string[], stdin = ''): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env['PATH'] ?? '', DATABASE_URL: databaseUrl(database.name), LOG_LEVEL: 'warn', LOG_FORMAT: 'json' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

const lastLine = (text: string): string => text.trimEnd().split('\n').at(-1) ?? '';
const accounts = async (): Promise<number> => Number((await database.db.selectFrom('account').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

async function me(token: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${api.port}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const EMAILS = {
  province: 'Zhang.Wei@hrss.example',
  city: 'liu.yang@cd.example',
  ops: 'oncall@hrss.example',
  viewer: 'reader@hrss.example',
};
const PASSWORD = 'Mid-Autumn-lanterns-88';

describe('ews users', () => {
  it('adds an account of each role, the password from stdin or generated and printed once', async () => {
    const province = await ews(['users', 'add', '--role', 'province', '--email', EMAILS.province, '--password-stdin'], `${PASSWORD}\n`);
    expect(province.code, province.stderr).toBe(0);
    expect(province.stdout).toMatch(/^account \d+ added: Zh\*\*\*@hrss\.example, province\n$/);
    expect((await auth.login(EMAILS.province, PASSWORD, null)).ok).toBe(true);

    const city = await ews(['users', 'add', '--role', 'city', '--city', '510100', '--email', EMAILS.city, '--password-stdin'], PASSWORD);
    expect(city.code, city.stderr).toBe(0);
    expect(city.stdout).toContain('li***@cd.example, city of 510100 成都市');
    const login = await auth.login(EMAILS.city, PASSWORD, null);
    expect(login.ok && login.principal).toMatchObject({ role: 'city', cityCode: '510100' });

    // No --password-stdin: a generated password, shown once on the last line, that logs in.
    const ops = await ews(['users', 'add', '--role', 'ops', '--email', EMAILS.ops]);
    expect(ops.code, ops.stderr).toBe(0);
    const generated = lastLine(ops.stdout);
    expect(generated).toMatch(/^[A-Za-z0-9_-]{20}$/);
    expect((await auth.login(EMAILS.ops, generated, null)).ok).toBe(true);

    const viewer = await ews(['users', 'add', '--role', 'viewer', '--email', EMAILS.viewer, '--password-stdin', '--json'], PASSWORD);
    expect(viewer.code, viewer.stderr).toBe(0);
    expect(JSON.parse(viewer.stdout)).toMatchObject({ email: 're***@hrss.example', role: 'viewer', cityCode: null });
    for (const run of [province, city, ops, viewer]) for (const email of Object.values(EMAILS)) expect(run.stdout + run.stderr).not.toContain(email.split('@')[0]);
  });

  it('lists the accounts with role, city and state, never a full e-mail address', async () => {
    const table = await ews(['users', 'list']);
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^id\s+email\s+role\s+city\s+state\s+last login\s+created$/);
    expect(lines.find((l) => l.includes('li***@cd.example'))).toMatch(/city\s+510100 成都市\s+active/);
    const json = await ews(['users', 'list', '--json']);
    const items = JSON.parse(json.stdout) as { email: string; role: string; city: string; state: string }[];
    expect(items.map((i) => [i.email, i.role])).toEqual(
      expect.arrayContaining([
        ['li***@cd.example', 'city'],
        ['on***@hrss.example', 'ops'],
        ['re***@hrss.example', 'viewer'],
        ['Zh***@hrss.example', 'province'],
      ]),
    );
    expect(items).toHaveLength(4);
    for (const email of Object.values(EMAILS)) {
      expect(table.stdout).not.toContain(email.split('@')[0]);
      expect(json.stdout).not.toContain(email.split('@')[0]);
      expect(table.stdout.toLowerCase()).not.toContain(email.toLowerCase());
    }
  });

  it('disable refuses the account (sessions, logins, tokens) and enable lets it back', async () => {
    const { token } = await auth.createToken(EMAILS.viewer, null, 'test');
    expect((await me(token)).status).toBe(200);
    const off = await ews(['users', 'disable', '--email', EMAILS.viewer]);
    expect(off.code, off.stderr).toBe(0);
    expect(off.stdout).toContain('re***@hrss.example: disabled');
    expect(await auth.login(EMAILS.viewer, PASSWORD, null)).toMatchObject({ ok: false, reason: 'disabled' });
    expect((await me(token)).status).toBe(401);
    expect((await ews(['users', 'list'])).stdout.split('\n').find((l) => l.includes('re***@'))).toMatch(/\bdisabled\b/);
    // A disabled account gets no new token either.
    const refused = await ews(['tokens', 'create', '--email', EMAILS.viewer]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^ews: the account of re\*\*\*@hrss\.example is disabled: enable it first/m);
    const on = await ews(['users', 'enable', '--email', 'READER@hrss.example']);
    expect(on.code, on.stderr).toBe(0);
    expect((await auth.login(EMAILS.viewer, PASSWORD, null)).ok).toBe(true);
    expect((await me(token)).status).toBe(200);
  });

  it('reset sets a new password, lifts a lock-out and ends the sessions', async () => {
    for (let i = 0; i < 5; i++) await auth.login(EMAILS.city, `wrong-${i}`, null);
    expect(await auth.login(EMAILS.city, PASSWORD, null)).toMatchObject({ ok: false, reason: 'locked' });
    expect((await ews(['users', 'list'])).stdout.split('\n').find((l) => l.includes('li***@'))).toMatch(/locked until \d{4}-/);
    const session = await auth.login(EMAILS.province, PASSWORD, null);
    expect(session.ok).toBe(true);
    const fresh = 'Hotpot-and-tea-2026!';
    const reset = await ews(['users', 'reset', '--email', EMAILS.city, '--password-stdin'], `${fresh}\n`);
    expect(reset.code, reset.stderr).toBe(0);
    expect(reset.stdout).toContain('li***@cd.example: new password set, lock lifted, sessions ended');
    expect((await auth.login(EMAILS.city, PASSWORD, null)).ok).toBe(false);
    expect((await auth.login(EMAILS.city, fresh, null)).ok).toBe(true);
    // Generated when not given; the old one no longer works; sessions of the account end.
    const again = await ews(['users', 'reset', '--email', EMAILS.province]);
    expect(again.code, again.stderr).toBe(0);
    expect((await auth.login(EMAILS.province, lastLine(again.stdout), null)).ok).toBe(true);
    expect((await auth.login(EMAILS.province, PASSWORD, null)).ok).toBe(false);
    if (session.ok) expect(await auth.session(session.sessionToken)).toBeUndefined();
  });
});

describe('ews tokens', () => {
  it('create prints the token on its last line, and the API accepts it as Bearer; list never shows it; revoke refuses it at once', async () => {
    const created = await ews(['tokens', 'create', '--email', EMAILS.city, '--label', 'nightly export']);
    expect(created.code, created.stderr).toBe(0);
    const token = lastLine(created.stdout);
    expect(token).toMatch(/^ews_[A-Za-z0-9_-]{43}$/);
    const id = Number(/^token (\d+) for li\*\*\*@cd\.example \(city 510100\)/.exec(created.stdout)?.[1]);
    expect(id).toBeGreaterThan(0);
    expect(await me(token)).toEqual({ status: 200, body: expect.objectContaining({ role: 'city', cityCode: '510100', via: 'token', email: 'li***@cd.example' }) as unknown });
    const alerts = await fetch(`http://127.0.0.1:${api.port}/api/v1/alerts`, { headers: { authorization: `Bearer ${token}` } });
    expect(alerts.status).toBe(200);
    expect(await alerts.json()).toMatchObject({ items: [], total: 0 });

    const list = await ews(['tokens', 'list', '--email', EMAILS.city]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`^${id}\\s+li\\*\\*\\*@cd\\.example\\s+city\\s+nightly export`, 'm'));
    const json = JSON.parse((await ews(['tokens', 'list', '--json'])).stdout) as { id: number; email: string; revoked: string | null; 'last used': string | null }[];
    expect(json.find((t) => t.id === id)).toMatchObject({ email: 'li***@cd.example', revoked: null });
    expect(json.find((t) => t.id === id)?.['last used']).not.toBeNull();
    for (const out of [list.stdout, JSON.stringify(json)]) {
      expect(out).not.toContain(token);
      expect(out).not.toContain(token.slice(4, 20));
      expect(out).not.toContain('liu.yang');
    }
    // Stored only as its digest.
    const stored = await database.db.selectFrom('api_token').select('token_hash').where('token_id', '=', id).executeTakeFirstOrThrow();
    expect(stored.token_hash.toString('utf8')).not.toContain(token.slice(4));

    const revoke = await ews(['tokens', 'revoke', String(id)]);
    expect(revoke.code, revoke.stderr).toBe(0);
    expect(revoke.stdout).toContain(`token ${id} revoked`);
    expect((await me(token)).status).toBe(401);
    const twice = await ews(['tokens', 'revoke', String(id)]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toMatch(new RegExp(`^ews: no live token ${id}`, 'm'));
  });
});

describe('bad input: a clear message and exit code 2, nothing changed', () => {
  const BAD: [string, string[], string, RegExp][] = [
    ['an unknown role', ['users', 'add', '--role', 'admin', '--email', 'x1@cd.example', '--password-stdin'], PASSWORD, /role must be one of province \/ city \/ ops \/ viewer, got "admin"/],
    ['a city account without --city', ['users', 'add', '--role', 'city', '--email', 'x3@cd.example', '--password-stdin'], PASSWORD, /a city account needs --city <code>/],
    ['--city for a province account', ['users', 'add', '--role', 'province', '--city', '510100', '--email', 'x4@cd.example', '--password-stdin'], PASSWORD, /--city is only for the city role/],
    ['a city code outside Sichuan', ['users', 'add', '--role', 'city', '--city', '110100', '--email', 'x6@cd.example', '--password-stdin'], PASSWORD, /--city 110100 is not one of Sichuan's 21 cities and prefectures/],
    ['a bad e-mail', ['users', 'add', '--role', 'viewer', '--email', 'not-an-email', '--password-stdin'], PASSWORD, /"not-an-email" is not an e-mail address/],
    ['no e-mail', ['users', 'add', '--role', 'viewer', '--password-stdin'], PASSWORD, /--email <address> is required/],
    ['a short password on stdin', ['users', 'add', '--role', 'viewer', '--email', 'x8@cd.example', '--password-stdin'], 'Short-1\n', /the password must have at least 12 characters/],
    ['a password of few characters', ['users', 'add', '--role', 'viewer', '--email', 'x9@cd.example', '--password-stdin'], 'abababababababab', /at least 6 different characters/],
    ['a common password', ['users', 'add', '--role', 'viewer', '--email', 'x10@cd.example', '--password-stdin'], 'Password-for-2026', /must not start with a common word/],
    ['an empty stdin', ['users', 'add', '--role', 'viewer', '--email', 'x11@cd.example', '--password-stdin'], '', /--password-stdin: stdin was empty/],
    ['a duplicate e-mail, in other case', ['users', 'add', '--role', 'viewer', '--email', 'LIU.YANG@CD.EXAMPLE', '--password-stdin'], PASSWORD, /an account for LI\*\*\*@cd\.example already exists/],
    ['a weak password on reset', ['users', 'reset', '--email', EMAILS.ops, '--password-stdin'], 'qwerty-qwerty-1', /must not start with a common word/],
    ['disabling an unknown account', ['users', 'disable', '--email', 'nobody@cd.example'], '', /no account for no\*\*\*@cd\.example/],
    ['a token for an unknown account', ['tokens', 'create', '--email', 'nobody@cd.example'], '', /no account for no\*\*\*@cd\.example/],
    ['a token id that is not a number', ['tokens', 'revoke', 'abc'], '', /--id must be a whole number/],
  ];

  // Side by side: each is refused and changes nothing, so none can disturb another.
  it.concurrent.for(BAD)('%s', async ([, args, stdin, message], { expect }) => {
    const before = await accounts();
    const tokensBefore = await database.db.selectFrom('api_token').select('token_id').execute();
    const r = await ews(args, stdin);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^ews: .*${message.source}`, 'm'));
    expect(r.stdout).toBe('');
    expect(await accounts()).toBe(before);
    expect(await database.db.selectFrom('api_token').select('token_id').execute()).toEqual(tokensBefore);
    // The message names no password it was given.
    if (stdin.length > 3) expect(r.stderr).not.toContain(stdin.trim());
  });

  it('the password an account keeps is the one given, after a refused reset too', async () => {
    expect((await auth.login(EMAILS.ops, 'qwerty-qwerty-1', null)).ok).toBe(false);
    const rows = await database.db.selectFrom('account').select(['email', 'password_hash']).execute();
    for (const r of rows) expect(r.password_hash).toMatch(/^scrypt\$/);
  });
});
