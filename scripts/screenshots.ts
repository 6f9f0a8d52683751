// npm run screenshots — the console's main pages as PNGs under docs/screenshots/,
// over the same small province the browser test uses (test/harness/console-world.ts:
// generated, ingested and scored by the real pipeline, e-mails written as .eml),
// in its own database `ews_screenshots` on the test server (TEST_DATABASE_URL,
// dropped and made again each run), its own queue names in Redis (TEST_REDIS_URL),
// and Debian's chromium (/usr/bin/chromium). About a minute.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import type { Browser, Page } from 'playwright-core';
import { startApiServer } from '../services/api/server.js';
import { siblingDatabase } from '../services/db/database.js';
import { redisConnection } from '../workers/redis.js';
import { openQueues } from '../workers/worker.js';
import { chartsDrawn, launchChromium, signIn } from '../test/harness/browser.js';
import { CITY, consoleConfig, seedConsole, type ConsoleAccount } from '../test/harness/console-world.js';
import { adminUrl, redisUrl } from '../test/harness/env.js';

const OUT = resolve(fileURLToPath(new URL('../docs/screenshots/', import.meta.url)));
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };

const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

async function shoot(browser: Browser, base: string, who: ConsoleAccount, shots: { path: string; file: string }[], phone = false): Promise<void> {
  const context = await browser.newContext({
    viewport: phone ? PHONE : DESKTOP, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', deviceScaleFactor: 1, ...(phone ? { isMobile: true, hasTouch: true } : {}),
  });
  try {
    const page: Page = await context.newPage();
    await signIn(page, base, who, shots[0]?.path ?? '/');
    for (const s of shots) {
      const answer = await page.goto(`${base}${s.path}`);
      if (answer?.status() !== 200) throw new Error(`${s.path} answered ${answer?.status()} for the ${who.role} account`);
      await chartsDrawn(page);
      await page.screenshot({ path: join(OUT, s.file), fullPage: true });
      say(`docs/screenshots/${s.file}  ${s.path}${phone ? ' (phone)' : ''}`);
    }
  } finally {
    await context.close();
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'ews-screenshots-'));
  const log = pino({ level: 'warn' });
  const browser = await launchChromium();
  const database = await siblingDatabase(adminUrl(), 'ews_screenshots', true);
  const connection = redisConnection(redisUrl());
  const queues = openQueues(connection, `ews-screenshots-${randomBytes(4).toString('hex')}`);
  try {
    say('seeding a province of 1,500 employers (generate, ingest, score ten months, raise alerts) …');
    const config = consoleConfig(dir);
    const world = await seedConsole(database, config, dir, log, { hostileName: false });
    const api = await startApiServer({ config, database, queues: Object.values(queues.queues), log }, { port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${api.port}`;
    try {
      mkdirSync(OUT, { recursive: true });
      const detail = `/alerts/${world.cityAlert.id}`;
      await shoot(browser, base, world.accounts.province, [
        { path: '/', file: 'overview.png' },
        { path: '/alerts?status=active&sort=level&pageSize=20', file: 'alerts.png' },
        { path: '/ops', file: 'ops.png' },
      ]);
      await shoot(browser, base, world.accounts.city, [
        { path: `/cities/${CITY}`, file: 'city.png' },
        { path: detail, file: 'alert-detail.png' },
      ]);
      await shoot(browser, base, world.accounts.city, [{ path: detail, file: 'alert-detail-phone.png' }], true);
    } finally {
      await api.close();
    }
  } finally {
    await browser.close();
    for (const q of Object.values(queues.queues)) await q.obliterate({ force: true }).catch(() => undefined);
    await queues.close();
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  }
  say(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

main().catch((err: unknown) => {
  process.stderr.write(`screenshots: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
