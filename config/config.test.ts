import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, REFUSED_ENV, ENV_OPTIONS, loadConfig, SPECIAL_ENV } from './config.load.js';

const empty = mkdtempSync(join(tmpdir(), 'ews-cfg-'));

describe('configuration', () => {
  it('has defaults that work on a fresh machine', () => {
    const c = loadConfig({ env: {}, cwd: empty });
    expect(c.database.url).toBeUndefined();
    expect(c).toMatchObject({ env: 'development', dataDir: './data', redis: { url: 'redis://127.0.0.1:6379', queuePrefix: 'ews' }, feeds: { sources: [] } });
    expect(Object.isFrozen(c.feeds)).toBe(true);
  });

  it('lists every bad value at once, naming the variable', () => {
    let err: unknown;
    try {
      loadConfig({ env: { DATABASE_URL: 'mysql://x', DB_POOL_SIZE: 'ten', LOG_FORMAT: 'xml', FEED_SOURCES: 'a=ftp://x,Bad Name=file:///srv' }, cwd: empty });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([
      'DB_POOL_SIZE: must be a whole number, got "ten"',
      'FEED_SOURCES: source name "Bad Name" must be lower-case letters, digits, - or _',
      'DATABASE_URL (database.url): must be a postgres:// or postgresql:// URL',
      'LOG_FORMAT (log.format): Invalid option: expected one of "json"|"pretty"|"auto"',
      'FEED_SOURCES (feeds.sources.0.url): must be a file:// directory or an http(s):// base URL',
      'FEED_SOURCES (feeds.sources.1.name): must be lower-case letters, digits, - or _, starting with a letter',
    ]);
  });

  it('rejects bad recipients at start-up: an address that is not one, a city that is not Sichuan\'s, a city left without recipients', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ews-cfg-'));
    writeFileSync(
      join(dir, 'ews.config.json'),
      JSON.stringify({
        notify: {
          cities: { '510100': [{ email: 'chengdu hr@example' }], '110000': [{ email: 'x@beijing.example' }] },
          province: [{ email: 'office@province.example', levels: [1, 5] }],
        },
        alerts: { modelConfirmations: 4, modelConfirmWindow: 3 },
      }),
    );
    let err: unknown;
    try {
      loadConfig({ env: { SMTP_URL: 'http://relay' }, cwd: dir });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems;
    expect(problems).toContain('alerts.modelConfirmations: modelConfirmations cannot exceed modelConfirmWindow (a model-only alert could never open)');
    expect(problems).toContain('notify.cities.510100.0.email: "chengdu hr@example" is not an e-mail address (expected name@domain.example)');
    expect(problems).toContain('SMTP_URL (notify.smtpUrl): must be an smtp:// or smtps:// URL');
    expect(problems.some((p) => p.startsWith('notify.province.0.levels.1: '))).toBe(true);

    writeFileSync(join(dir, 'ews.config.json'), JSON.stringify({ notify: { cities: { '510100': [{ email: 'hr@chengdu.example' }], '110000': [{ email: 'x@beijing.example' }] } } }));
    let second: unknown;
    try {
      loadConfig({ env: {}, cwd: dir });
    } catch (e) {
      second = e;
    }
    const cityProblems = (second as ConfigError).problems;
    expect(cityProblems).toContain("notify.cities.110000: 110000 is not one of Sichuan's 21 cities and prefectures");
    expect(cityProblems).toContain("notify.cities.510300: 自贡市 (510300) has no recipients: every city's department must hear about its alerts");
    expect(cityProblems).toHaveLength(1 + 20);
  });

  it('reads sources with their tokens, and a config file under the environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ews-cfg-'));
    writeFileSync(join(dir, 'ews.config.json'), JSON.stringify({ feeds: { httpTimeoutMs: 5000 }, redis: { queuePrefix: 'file' } }));
    const c = loadConfig({
      env: { FEED_SOURCES: 'exchange=https://x.example/employment/,file:///srv/feeds/', FEED_TOKEN_EXCHANGE: 'tok', QUEUE_PREFIX: 'env' },
      cwd: dir,
    });
    expect(c.feeds.sources).toEqual([
      { name: 'exchange', url: 'https://x.example/employment/', token: 'tok' },
      { name: 'source-2', url: 'file:///srv/feeds/' },
    ]);
    expect(c.feeds.httpTimeoutMs).toBe(5000);
    expect(c.redis.queuePrefix).toBe('env');
  });

  it('refuses a config file that is not JSON, or one that is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ews-cfg-'));
    writeFileSync(join(dir, 'bad.json'), '{ nope');
    expect(() => loadConfig({ env: { EWS_CONFIG: 'bad.json' }, cwd: dir })).toThrow(/bad\.json: not valid JSON/);
    expect(() => loadConfig({ env: { EWS_CONFIG: 'none.json' }, cwd: dir })).toThrow(/EWS_CONFIG: file .*none\.json does not exist/);
  });

  it('EWS_CONFIG names the file read (relative to the working directory); its values apply, and the environment wins over them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ews-cfg-'));
    writeFileSync(join(dir, 'ews.config.json'), JSON.stringify({ feeds: { httpRetries: 1 } }));
    writeFileSync(join(dir, 'night.json'), JSON.stringify({ feeds: { httpRetries: 7 }, redis: { queuePrefix: 'from-file' }, training: { negatives: 0.5 } }));
    // Without EWS_CONFIG, ./ews.config.json; with it, that file and not the other.
    expect(loadConfig({ env: {}, cwd: dir }).feeds.httpRetries).toBe(1);
    const c = loadConfig({ env: { EWS_CONFIG: 'night.json', QUEUE_PREFIX: 'from-env' }, cwd: dir });
    expect(c.feeds.httpRetries).toBe(7);
    expect(c.training.negatives).toBe(0.5);
    expect(c.redis.queuePrefix).toBe('from-env');
  });

  it('EWS_ENV (or NODE_ENV when EWS_ENV is unset) sets the environment; production needs no dashboard password', () => {
    const env = (vars: Record<string, string>): string => loadConfig({ env: vars, cwd: empty }).env;
    expect(env({})).toBe('development');
    expect(env({ EWS_ENV: 'production' })).toBe('production');
    expect(env({ NODE_ENV: 'production' })).toBe('production');
    expect(env({ EWS_ENV: 'test' })).toBe('test');
    // EWS_ENV wins over NODE_ENV; a NODE_ENV of another meaning is left alone.
    expect(env({ EWS_ENV: 'development', NODE_ENV: 'production' })).toBe('development');
    expect(env({ NODE_ENV: 'staging' })).toBe('development');
    expect(() => loadConfig({ env: { EWS_ENV: 'staging' }, cwd: empty })).toThrow(/EWS_ENV \(env\)/);
  });

  it('ADMIN_USER and ADMIN_PASSWORD (or api.adminUser / api.adminPassword in the file) are refused, naming the ops account to use instead', () => {
    const gone = 'is gone: the queue dashboard uses the console login now; give someone an ops account (ews users add --role ops --email …)';
    let err: unknown;
    try {
      loadConfig({ env: { EWS_ENV: 'production', ADMIN_USER: 'ops', ADMIN_PASSWORD: 'vN4-q8s-Lw2-zT7' }, cwd: empty });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([`ADMIN_USER (api.adminUser): ${gone}`, `ADMIN_PASSWORD (api.adminPassword): ${gone}`]);
    const dir = mkdtempSync(join(tmpdir(), 'ews-cfg-'));
    writeFileSync(join(dir, 'ews.config.json'), JSON.stringify({ api: { adminPassword: 'vN4-q8s-Lw2-zT7' } }));
    expect(() => loadConfig({ env: {}, cwd: dir })).toThrow(`api.adminPassword: ${gone}`);
    // Nothing of them is left in a good configuration.
    expect(Object.keys(loadConfig({ env: {}, cwd: empty }).api)).not.toContain('adminPassword');
  });

  it('a config file that still sets attempts or backoff of the poll, ingest or notify stage is refused, naming the setting to use', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ews-cfg-'));
    writeFileSync(
      join(dir, 'ews.config.json'),
      JSON.stringify({ nightly: { stages: { ingest: { concurrency: 3, attempts: 9, backoffMs: 100 }, notify: { attempts: 2 }, poll: { backoffMs: 5 }, score: { attempts: 4, backoffMs: 50 } } } }),
    );
    let err: unknown;
    try {
      loadConfig({ env: {}, cwd: dir });
    } catch (e) {
      err = e;
    }
    expect((err as ConfigError).problems).toEqual([
      "nightly.stages.poll.backoffMs: is no longer set here: the backoff of poll-source jobs comes from FEED_RETRY_BASE_MS (feeds.retryBaseMs); set that instead",
      "nightly.stages.ingest.attempts: is no longer set here: the attempts of ingest-batch jobs (poll-source's and the night's) come from INGEST_ATTEMPTS (feeds.ingestAttempts); set that instead",
      "nightly.stages.ingest.backoffMs: is no longer set here: the backoff of ingest-batch jobs (poll-source's and the night's) comes from FEED_RETRY_BASE_MS (feeds.retryBaseMs); set that instead",
      'nightly.stages.notify.attempts: is no longer set here: the attempts of notify jobs come from NOTIFY_ATTEMPTS (notify.attempts); set that instead',
    ]);
    // Their concurrency stays here; the night's own steps keep attempts and backoff.
    writeFileSync(join(dir, 'ews.config.json'), JSON.stringify({ nightly: { stages: { ingest: { concurrency: 3 }, score: { attempts: 4, backoffMs: 50 } } } }));
    const { stages } = loadConfig({ env: {}, cwd: dir }).nightly;
    expect(stages.ingest).toEqual({ concurrency: 3 });
    expect(stages.score).toEqual({ concurrency: 3, attempts: 4, backoffMs: 50 });
  });

  it('is documented: the README names every variable (but those it refuses)', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const refused = refusedEnv();
    // REFUSED_ENV (which settings.test.ts reads) names exactly the variables the loader refuses.
    expect(refused).toEqual([...REFUSED_ENV]);
    for (const name of [...ENV_OPTIONS.map((o) => o.env).filter((n) => !refused.includes(n)), ...SPECIAL_ENV]) expect(readme, name).toContain(`\`${name}\``);
  });
});

/** The variables the loader reads only to refuse them, with what to do instead ("is gone: …"), found by trying each. */
function refusedEnv(): string[] {
  return ENV_OPTIONS.filter((o) => {
    try {
      loadConfig({ env: { [o.env]: '1' }, cwd: empty });
      return false;
    } catch (e) {
      return e instanceof ConfigError && e.problems.some((p) => p.startsWith(`${o.env} (`) && p.includes('is gone:'));
    }
  }).map((o) => o.env);
}
