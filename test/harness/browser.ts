import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

/**
 * Debian's chromium driven by playwright-core (no browser download works
 * here), for the console's browser test and `npm run screenshots`.
 */

export const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

/** Why the browser cannot run here, or undefined. */
export function browserMissing(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `no browser at ${CHROMIUM}: install Debian's chromium (apt-get install -y --no-install-recommends chromium; .ci/run does it as root)`;
}

export async function launchChromium(): Promise<Browser> {
  const missing = browserMissing();
  if (missing !== undefined) throw new Error(missing);
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}

/** Fills and posts the login form on screen, and waits for the page it leads to. */
export async function submitLogin(page: Page, email: string, password: string): Promise<void> {
  await page.locator('input[name="email"]').fill(email);
  await page.locator('input[name="password"]').fill(password);
  await Promise.all([page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame() }), page.locator('form[action="/login"] button[type="submit"]').click()]);
  await page.waitForLoadState('load');
}

/** Opens `path` without a session: the login page, then, logged in, back to `path`. */
export async function signIn(page: Page, base: string, who: { email: string; password: string }, path = '/'): Promise<void> {
  await page.goto(`${base}${path}`);
  await page.waitForURL(/\/login\?next=/);
  await submitLogin(page, who.email, who.password);
}

/** Waits until every chart of the page has drawn (console.js marks each data-ready when ECharts has finished). */
export async function chartsDrawn(page: Page): Promise<number> {
  const charts = page.locator('[data-chart]');
  const n = await charts.count();
  for (let i = 0; i < n; i++) {
    await charts.nth(i).and(page.locator('[data-ready="1"]')).waitFor();
    if ((await charts.nth(i).locator('canvas').count()) === 0) throw new Error(`chart ${i + 1} of ${page.url()} drew no canvas`);
  }
  return n;
}
