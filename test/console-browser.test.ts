import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../config/config.schema.js';
import { startApiServer, type ApiServer } from '../services/api/server.js';
import type { Database } from '../services/db/database.js';
import { maskedEmail } from '../services/domain/access.js';
import { redisConnection } from '../workers/redis.js';
import { openQueues, type QueueSet } from '../workers/worker.js';
import { CITY, consoleConfig, HOSTILE_NAME, seedConsole, type ConsoleAccount, type ConsoleWorld } from './harness/console-world.js';
import { browserMissing, chartsDrawn, launchChromium, signIn as signInAt, submitLogin } from './harness/browser.js';
import { createTestDatabase } from './harness/db.js';
import { redisUrl } from './harness/env.js';
import { captureLogger } from './harness/log.js';

/**
 * The console in a real browser: Debian's chromium driven by playwright-core
 * against the api role on a free port, over a province the real pipeline
 * scored (test/harness/console-world.ts). A city official sees only their
 * city and closes the loop on an alert; the province sees all; five wrong
 * passwords lock an account; an e-mail link to another city's alert shows
 * nothing of it; an employer name with HTML is text; the alert page fits a
 * phone. Without chromium the file fails: .ci/run installs it.
 */

const PHONE = { width: 390, height: 844 };

const { log } = captureLogger();
const connection = redisConnection(redisUrl());
const prefix = `ews-browser-${randomBytes(4).toString('hex')}`;

let dir: string;
let database: Database & { name: string };
let config: Config;
let world: ConsoleWorld;
let queues: QueueSet;
let api: ApiServer;
let browser: Browser;
let base: string;
const contexts: BrowserContext[] = [];
/** Script errors and CSP refusals seen by any page: a console page has none. */
const pageErrors: string[] = [];

/** Why the browser cannot run, when it cannot: then every test fails with it (a failing beforeAll would only mark them skipped). */
let missing: string | undefined;

beforeAll(async () => {
  missing = browserMissing();
  if (missing !== undefined) return;
  browser = await launchChromium();
  dir = mkdtempSync(join(tmpdir(), 'ews-browser-'));
  database = await createTestDatabase();
  config = consoleConfig(dir);
  world = await seedConsole(database, config, dir, log);
  queues = openQueues(connection, prefix);
  api = await startApiServer({ config, database, queues: Object.values(queues.queues), log }, { port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${api.port}`;
}, 240_000);

beforeEach(() => {
  if (missing !== undefined) throw new Error(missing);
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await api?.close();
  if (queues !== undefined) {
    for (const q of Object.values(queues.queues)) await q.obliterate({ force: true });
    await queues.close();
  }
  await database?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

async function newPage(viewport = { width: 1280, height: 900 }, mobile = false): Promise<Page> {
  const context = await browser.newContext({ viewport, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', ...(mobile ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}) });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(`${page.url()}: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/.test(m.text())) pageErrors.push(`${page.url()}: ${m.text()}`);
  });
  return page;
}

/** A browser session as `who`, starting from `path` (the login page comes first, then back to it). */
async function signIn(who: ConsoleAccount, path = '/', page?: Page): Promise<Page> {
  const p = page ?? (await newPage());
  await signInAt(p, base, who, path);
  return p;
}

async function cityAlertIds(city: string | null): Promise<number[]> {
  let q = database.db.selectFrom('alert').select('alert_id').orderBy('alert_id');
  if (city !== null) q = q.where('city_code', '=', city);
  return (await q.execute()).map((r) => r.alert_id);
}

/** The alert ids a list page shows. */
async function listedIds(page: Page): Promise<number[]> {
  const links = page.locator('table.list td.name a');
  const hrefs = await Promise.all(Array.from({ length: await links.count() }, (_, i) => links.nth(i).getAttribute('href').then((h) => h ?? '')));
  return hrefs.map((h) => Number(/^\/alerts\/(\d+)$/.exec(h)?.[1])).sort((a, b) => a - b);
}

describe('the console in a browser', () => {
  it('a city official sees only their city, acknowledges and resolves an alert with a disposition, and finds both in its history', async () => {
    const who = world.accounts.city;
    const page = await signIn(who);
    // Their overview is their city.
    await page.waitForURL(`${base}/cities/${CITY}`);
    await expect(page.locator('h1').textContent()).resolves.toContain('成都市');
    await chartsDrawn(page);
    const nav = await page.locator('header.top nav a').allTextContents();
    expect(nav).toEqual(['本市概览', '预警列表']);
    await expect(page.locator('header.top .who').textContent()).resolves.toContain(maskedEmail(who.email));

    // The list holds every alert of the city and nothing else; no city to choose.
    await page.goto(`${base}/alerts?pageSize=200`);
    expect(await listedIds(page)).toEqual(await cityAlertIds(CITY));
    expect(await page.locator('select[name="city"]').count()).toBe(0);
    // The export link carries the same filters to the CSV.
    await page.goto(`${base}/alerts?level=3&status=active`);
    await expect(page.locator('a.export').getAttribute('href')).resolves.toBe('/api/v1/alerts.csv?level=3&status=active');

    // Another city's page, by URL: the 404 page.
    const other = await page.goto(`${base}/cities/510300`);
    expect(other?.status()).toBe(404);
    await expect(page.locator('main h1').textContent()).resolves.toBe('未找到');

    // The alert, from the list.
    await page.goto(`${base}/alerts?status=open&pageSize=200`);
    await page.locator(`a[href="/alerts/${world.cityAlert.id}"]`).first().click();
    await page.waitForURL(`${base}/alerts/${world.cityAlert.id}`);
    await expect(page.locator('h1.alert-title').textContent()).resolves.toBe(world.cityAlert.name);
    await chartsDrawn(page);
    await expect(page.locator('.badges .st').textContent()).resolves.toBe('待确认');

    // Acknowledge.
    await page.locator('#ack-form textarea[name="comment"]').fill('已电话联系企业人事负责人，正在核实裁员人数');
    await Promise.all([page.waitForURL(/\?done=acknowledged$/), page.locator('#ack-form button[type="submit"]').click()]);
    await expect(page.locator('.flash-ok').textContent()).resolves.toContain('已确认签收');
    await expect(page.locator('.badges .st').textContent()).resolves.toBe('已确认');
    expect(await page.locator('#ack-form').count()).toBe(0);

    // Resolve with a disposition.
    await page.locator('#resolve-form select[name="disposition"]').selectOption('核实为规模裁员');
    await page.locator('#resolve-form textarea[name="comment"]').fill('企业裁减 14 人，已补报裁员方案，指导依法支付经济补偿');
    await Promise.all([page.waitForURL(/\?done=resolved$/), page.locator('#resolve-form button[type="submit"]').click()]);
    await expect(page.locator('.flash-ok').textContent()).resolves.toContain('已记录处置结果');
    await expect(page.locator('.badges .st').textContent()).resolves.toBe('已解除');
    expect(await page.locator('#act').count()).toBe(0);

    // Both in the history, newest first, under the official's masked address.
    const rows = page.locator('#history tbody tr');
    const history = await Promise.all(Array.from({ length: await rows.count() }, async (_, i) => (await rows.nth(i).locator('td').allTextContents()).map((t) => t.trim())));
    const [resolved, acknowledged] = history;
    expect(resolved?.[1]).toBe('解除');
    expect(resolved?.[4]).toBe(maskedEmail(who.email));
    expect(resolved?.[5]).toContain('核实为规模裁员');
    expect(resolved?.[5]).toContain('企业裁减 14 人');
    expect(acknowledged?.[1]).toBe('确认签收');
    expect(acknowledged?.[4]).toBe(maskedEmail(who.email));
    expect(acknowledged?.[5]).toContain('已电话联系企业人事负责人');

    // What the database and the audit log say.
    const row = await database.db.selectFrom('alert').select(['status', 'disposition', 'acknowledged_by', 'resolved_by']).where('alert_id', '=', world.cityAlert.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'resolved', disposition: '核实为规模裁员', acknowledged_by: maskedEmail(who.email), resolved_by: maskedEmail(who.email) });
    const audit = await database.db.selectFrom('audit_log').select(['action', 'city_code']).where('target', '=', `alert:${world.cityAlert.id}`).orderBy('audit_id').execute();
    expect(audit.map((a) => [a.action, a.city_code?.trim()])).toEqual([['alert.acknowledge', CITY], ['alert.resolve', CITY]]);
    expect(pageErrors).toEqual([]);
  });

  it('the province sees all 21 cities and every alert', async () => {
    const page = await signIn(world.accounts.province);
    await page.waitForURL(`${base}/`);
    await expect(page.locator('article.city').count()).resolves.toBe(21);
    const nav = await page.locator('header.top nav a').allTextContents();
    expect(nav).toEqual(['全省概览', '预警列表', '数据与运行', '审计日志', '任务队列']);
    // Each tile leads to its city; a city's page is the province's to read too.
    await page.locator('article.city[data-city="510300"] a.city-head').click();
    await page.waitForURL(`${base}/cities/510300`);
    await expect(page.locator('h1').textContent()).resolves.toContain('自贡市');
    await chartsDrawn(page);

    await page.goto(`${base}/alerts?pageSize=200`);
    expect(await listedIds(page)).toEqual(await cityAlertIds(null));
    await expect(page.locator('select[name="city"] option').count()).resolves.toBe(22);
    const cities = new Set(await page.locator('table.list td[data-label="市州"]').allTextContents());
    expect(cities.size).toBeGreaterThan(5);

    // Filters narrow the list and keep their values.
    await page.locator('select[name="city"]').selectOption(world.otherAlert.cityCode);
    await Promise.all([page.waitForURL(new RegExp(`city=${world.otherAlert.cityCode}`)), page.locator('form.filters button[type="submit"]').click()]);
    expect(await listedIds(page)).toEqual(await cityAlertIds(world.otherAlert.cityCode));
    await expect(page.locator('select[name="city"]').inputValue()).resolves.toBe(world.otherAlert.cityCode);

    // Another city's alert opens for the province.
    const r = await page.goto(`${base}/alerts/${world.otherAlert.id}`);
    expect(r?.status()).toBe(200);
    await expect(page.locator('h1.alert-title').textContent()).resolves.toBe(world.otherAlert.name);

    // Runs and feeds, and the audit log with the logins in it.
    await page.goto(`${base}/ops`);
    await expect(page.locator('h1').textContent()).resolves.toBe('数据与运行');
    await expect(page.locator('a[href="/admin/queues"]').count()).resolves.toBeGreaterThan(0);
    await page.goto(`${base}/audit`);
    expect(await page.locator('table.audit tbody tr').allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining('登录')]));
    expect(pageErrors).toEqual([]);
  });

  it('five wrong passwords lock the account: the sixth try, even the right password, is refused', async () => {
    const who = world.accounts.lockable;
    const page = await newPage();
    await page.goto(`${base}/login`);
    for (let i = 1; i <= 5; i++) {
      await submitLogin(page, who.email, `not-the-password-${i}`);
      await page.waitForURL(`${base}/login`);
      const message = await page.locator('.error').textContent();
      if (i < 5) expect(message).toBe('邮箱或密码不正确。');
      else expect(message).toContain('账号已锁定');
    }
    await submitLogin(page, who.email, who.password);
    await expect(page.locator('.error').textContent()).resolves.toContain('账号已锁定');
    expect(new URL(page.url()).pathname).toBe('/login');
    expect(await page.context().cookies()).not.toEqual(expect.arrayContaining([expect.objectContaining({ name: 'ews_session' })]));
    const row = await database.db.selectFrom('account').select(['locked_until']).where('email', '=', who.email).executeTakeFirstOrThrow();
    expect(row.locked_until!.getTime()).toBeGreaterThan(Date.now());
  });

  it("the e-mail link of another city's alert shows a city official nothing of it (404 page); their own opens after login", async () => {
    const page = await newPage();
    // The link from the e-mail, before logging in: the login page, then back to the link.
    await page.goto(`${base}/alerts/${world.otherAlert.id}`);
    await page.waitForURL(`${base}/login?next=${encodeURIComponent(`/alerts/${world.otherAlert.id}`)}`);
    const [answer] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === `/alerts/${world.otherAlert.id}` && r.request().method() === 'GET'),
      submitLogin(page, world.accounts.city.email, world.accounts.city.password),
    ]);
    expect(answer.status()).toBe(404);
    const text = await page.content();
    expect(text).toContain('未找到该预警');
    for (const secret of [world.otherAlert.name, world.otherAlert.subject, world.otherAlert.name.slice(0, 4)]) expect(text).not.toContain(secret);
    expect(await page.locator('h1.alert-title, #act, [data-chart]').count()).toBe(0);
    // Word for word the page of an alert that does not exist at all: nothing tells the two apart.
    const words = await page.locator('main').textContent();
    const missing = await page.goto(`${base}/alerts/987654321`);
    expect(missing?.status()).toBe(404);
    await expect(page.locator('main').textContent()).resolves.toBe(words);

    // Their own city's link works.
    const own = await page.goto(`${base}/alerts/${world.hostileAlert!.id}`);
    expect(own?.status()).toBe(200);
    expect(pageErrors).toEqual([]);
  });

  it('an employer name with HTML in it is shown as text, on the alert page and in the list', async () => {
    const page = await signIn(world.accounts.city, `/alerts/${world.hostileAlert!.id}`);
    await page.waitForURL(`${base}/alerts/${world.hostileAlert!.id}`);
    await expect(page.locator('h1.alert-title').textContent()).resolves.toBe(HOSTILE_NAME);
    await expect(page.locator('h1.alert-title *').count()).resolves.toBe(0);
    await chartsDrawn(page);
    await page.goto(`${base}/alerts?q=${encodeURIComponent('丰恒')}`);
    await expect(page.locator('table.list td.name a').first().textContent()).resolves.toBe(HOSTILE_NAME);
    // Nothing of the name became markup anywhere: no element, no handler run.
    for (const path of [`/alerts/${world.hostileAlert!.id}`, `/alerts?q=${encodeURIComponent('丰恒')}`, `/cities/${CITY}`]) {
      await page.goto(`${base}${path}`);
      await expect(page.locator('#injected, img[src="x"]').count()).resolves.toBe(0);
      expect(await page.title()).not.toBe('1');
    }
    expect(pageErrors).toEqual([]);
  });

  it('on a phone, the alert page, the list and the city page fit the screen (no sideways scrolling) and the chart draws', async () => {
    const page = await newPage(PHONE, true);
    await signIn(world.accounts.city, `/alerts/${world.hostileAlert!.id}`, page);
    for (const path of [`/alerts/${world.hostileAlert!.id}`, '/alerts', `/cities/${CITY}`]) {
      await page.goto(`${base}${path}`);
      await chartsDrawn(page);
      // (A string: the tests compile without the DOM's types.)
      const [scroll, client] = await page.evaluate<[number, number]>('[document.documentElement.scrollWidth, document.documentElement.clientWidth]');
      expect(client, path).toBe(PHONE.width);
      expect(scroll, `${path} is ${scroll - client} px wider than the phone`).toBeLessThanOrEqual(client);
    }
    // The forms are on the page and usable at that width.
    await page.goto(`${base}/alerts/${world.hostileAlert!.id}`);
    const button = await page.locator('#resolve-form button[type="submit"]').boundingBox();
    expect(button).not.toBeNull();
    expect(button!.x + button!.width).toBeLessThanOrEqual(PHONE.width);
    expect(pageErrors).toEqual([]);
  });
});
