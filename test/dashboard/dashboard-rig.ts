/// <reference lib="dom" />
// The page.evaluate / addInitScript callbacks run in the browser, hence the DOM types.
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { createHostTestApp, type HostTestApp } from '../support/host-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { ARTIFACTS_DIR, CHROMIUM_ARGS, CHROMIUM_PATH } from './browser-kit.js';

/** The CSP violations the page reported (securitypolicyviolation events), collected from before its first script. */
declare global {
  interface Window {
    cspViolations: string[];
  }
}

/**
 * What every dashboard spec runs against: the whole host app listening on a port, with the reconcile loop and the
 * simulated provisioner running, and a headless Chromium whose pages record their script errors and CSP violations.
 */
export interface DashboardRig {
  db: TestDatabase;
  host: HostTestApp;
  baseUrl: string;
  browser: Browser;
  /** A new page (its own context) at `GET /`, `width` × `height`. */
  openPage(width?: number, height?: number): Promise<Page>;
  /** Uncaught errors and console errors of a page (the 401/403 answers the page expects aside). */
  scriptErrors(page: Page): string[];
  /** Types the token into the focused field and presses Enter: keyboard only, as an operator would. */
  signIn(page: Page, token: string): Promise<void>;
  close(): Promise<void>;
}

export async function startDashboardRig(): Promise<DashboardRig> {
  const db = await createTestDatabase();
  const host = await createHostTestApp(db.url, {
    PROVISIONER_ENABLED: 'true',
    PROVISIONER_BUILD_MS: '100',
    PREBUILDS_ENABLED: 'true',
    PREBUILDS_INTERVAL_MS: '1000',
  });
  await host.app.listen(0, '127.0.0.1');
  const { port } = host.app.getHttpServer().address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  const contexts: BrowserContext[] = [];
  const errors = new WeakMap<Page, string[]>();

  return {
    db,
    host,
    baseUrl,
    browser,
    async openPage(width = 1280, height = 900) {
      const context = await browser.newContext({ viewport: { width, height } });
      contexts.push(context);
      const page = await context.newPage();
      const seen: string[] = [];
      page.on('pageerror', (error) => seen.push(error.message));
      page.on('console', (message) => {
        if (message.type() === 'error' && !/status of 40[13]/.test(message.text())) seen.push(message.text());
      });
      errors.set(page, seen);
      await page.addInitScript(() => {
        window.cspViolations = [];
        document.addEventListener('securitypolicyviolation', (event) =>
          window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sample}`.trim()),
        );
      });
      await page.goto(`${baseUrl}/`);
      return page;
    },
    scriptErrors: (page) => errors.get(page) ?? [],
    async signIn(page, token) {
      await page.waitForFunction(() => document.activeElement?.id === 'token');
      await page.keyboard.type(token);
      await page.keyboard.press('Enter');
      await page.locator('#identity').waitFor({ state: 'visible' });
    },
    async close() {
      for (const context of contexts) await context.close().catch(() => undefined);
      await browser.close().catch(() => undefined);
      await host.close();
      await db.drop();
    },
  };
}
