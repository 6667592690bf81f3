/// <reference lib="dom" />
// The page.evaluate / waitForFunction callbacks run in the browser, hence the DOM types.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Page } from 'playwright-core';
import type { HostTestApp } from '../support/host-app.js';
import { waitFor } from '../support/wait-for.js';
import {
  ARTIFACTS_DIR,
  card,
  contrastFailures,
  describeInBrowser,
  field,
  waitForText,
} from './browser-kit.js';
import { type DashboardRig, startDashboardRig } from './dashboard-rig.js';

interface HistorySample {
  at: string;
  desired: number;
  running: number;
  eligible: number;
  starting: number;
  claims: number;
  misses: number;
}

/**
 * The dashboard's history charts (uPlot, served from its npm package) in headless Chromium, against the whole host
 * app with the reconcile loop and the simulated provisioner running, and the real history endpoint behind them.
 */
describeInBrowser('dashboard history charts in headless Chromium', () => {
  let rig: DashboardRig;
  let host: HostTestApp;
  let templateId: string;
  let presetId: string;

  const asOwner = () => ({ Authorization: `Bearer ${host.tokens.owner}` });

  async function history(window: '1h' | '24h' | '7d'): Promise<{ samples: HistorySample[] }> {
    const answer = await host.http
      .get(`/api/v2/prebuilds/presets/${presetId}/history?window=${window}`)
      .set(asOwner())
      .expect(200);
    return answer.body;
  }

  const total = (samples: HistorySample[], key: 'claims' | 'misses') =>
    samples.reduce((sum, sample) => sum + sample[key], 0);

  /** uPlot's legend under a chart: [label, value] per series, the x series ("At") first. */
  const legendOf = (page: Page, selector: string) =>
    page.$$eval(`${selector} .u-series`, (rows) =>
      rows.map((row) => [
        row.querySelector('.u-label')?.textContent ?? '',
        row.querySelector('.u-value')?.textContent ?? '',
      ]),
    );

  const activeElement = (page: Page) =>
    page.evaluate(() => {
      const active = document.activeElement as HTMLElement | null;
      return active?.id || active?.dataset.action || active?.tagName || '';
    });

  const chartSummary = (page: Page, selector: string) =>
    page.locator(selector).getAttribute('aria-label') as Promise<string>;

  /** Presses `key` and returns the history request for this preset that it caused, with the window it asked for. */
  async function pressAndCatchRequest(page: Page, key: string, window: string): Promise<URL> {
    const request = page.waitForRequest(
      (r) =>
        r.url().includes(`/prebuilds/presets/${presetId}/history?`) &&
        new URL(r.url()).searchParams.get('window') === window,
      { timeout: 10_000 },
    );
    await page.keyboard.press(key);
    return new URL((await request).url());
  }

  beforeAll(async () => {
    rig = await startDashboardRig();
    host = rig.host;

    const created = await host.http
      .post('/api/v2/templates')
      .set(asOwner())
      .send({
        name: 'api-svc',
        version: {
          name: 'v1',
          parameters: [{ name: 'region', default: 'eu' }],
          presets: [{ name: 'eu', parameters: { region: 'eu' }, prebuilds: { instances: 2 } }],
        },
      })
      .expect(201);
    templateId = created.body.id;
    presetId = created.body.activeVersion.presets[0].id;
    await waitFor(
      async () => {
        const status = await host.http.get('/api/v2/prebuilds/status').set(asOwner()).expect(200);
        const preset = status.body.presets.find((p: { presetId: string }) => p.presetId === presetId);
        return preset?.eligible === 2;
      },
      { timeoutMs: 20_000, intervalMs: 50, message: 'the pool full (2 eligible)' },
    );
  }, 60_000);

  afterAll(async () => {
    await rig?.close();
  });

  it('serves uPlot from the installed package, next to the page files', async () => {
    const dist = join(dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist');
    const script = await host.http.get('/api/v2/dashboard/vendor/uPlot.iife.min.js').expect(200);
    expect(script.headers['content-type']).toMatch(/^text\/javascript/);
    expect(script.headers['x-content-type-options']).toBe('nosniff');
    expect(script.text).toBe(await readFile(join(dist, 'uPlot.iife.min.js'), 'utf8'));
    const style = await host.http.get('/api/v2/dashboard/vendor/uPlot.min.css').expect(200);
    expect(style.headers['content-type']).toMatch(/^text\/css/);
    expect(style.text).toBe(await readFile(join(dist, 'uPlot.min.css'), 'utf8'));
    const charts = await host.http.get('/api/v2/dashboard/charts.js').expect(200);
    expect(charts.headers['content-type']).toMatch(/^text\/javascript/);
    // Only the named files: nothing else of the package, nothing outside it.
    await host.http.get('/api/v2/dashboard/vendor/uPlot.esm.js').expect(404);
    await host.http.get('/api/v2/dashboard/vendor/..%2Fpackage.json').expect(404);
    const page = await host.http.get('/').expect(200);
    expect(page.text).toContain('src="/api/v2/dashboard/vendor/uPlot.iife.min.js"');
    expect(page.text).toContain('href="/api/v2/dashboard/vendor/uPlot.min.css"');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'; style-src 'self'");
  });

  it('charts the pool and the hit rate after claims; window switch and wider view by keyboard; no CSP violation', async () => {
    // Two claims from the pool, then a miss: paused, so that nothing refills in between.
    const setPaused = (paused: boolean) =>
      host.http
        .put('/api/v2/prebuilds/settings')
        .set(asOwner())
        .send({ reconciliationPaused: paused })
        .expect(200);
    await setPaused(true);
    const claimed: boolean[] = [];
    for (const name of ['hist-1', 'hist-2', 'hist-3']) {
      const workspace = await host.http
        .post('/api/v2/workspaces')
        .set('Authorization', `Bearer ${host.tokens.member}`)
        .send({ templateId, presetId, name })
        .expect(201);
      claimed.push(workspace.body.claimed);
    }
    expect(claimed).toEqual([true, true, false]);
    await setPaused(false);
    // A reconcile now (the loop may hold the lock for a moment: then 409, and again).
    await waitFor(
      async () =>
        (await host.http.post('/api/v2/prebuilds/reconcile').set(asOwner()).send({})).status === 200,
      { timeoutMs: 10_000, intervalMs: 100, message: 'POST /prebuilds/reconcile answering 200' },
    );
    // The server has sampled them: the page is checked against this.
    await waitFor(
      async () => {
        const { samples } = await history('1h');
        return total(samples, 'claims') === 2 && total(samples, 'misses') === 1;
      },
      { timeoutMs: 15_000, intervalMs: 100, message: 'the 1h history counting 2 claims and 1 miss' },
    );

    const page = await rig.openPage();
    await rig.signIn(page, host.tokens.owner);
    const chart = `${card(presetId)} .history-chart`;

    // The card: the hit rate over the window, and the chart of desired vs eligible with its legend and summary.
    await waitForText(page, field(presetId, 'hit-rate'), '67%');
    expect(await page.locator(field(presetId, 'hit-rate-detail')).textContent()).toBe(
      '(2 claimed, 1 missed)',
    );
    expect(await page.locator(field(presetId, 'history-window')).textContent()).toBe('Last hour');
    await page.locator(`${card(presetId)} .history-legend .u-legend`).waitFor();
    const legend = await legendOf(page, `${card(presetId)} .history-legend`);
    expect(legend.map(([label]) => label)).toEqual(['At', 'Eligible', 'Desired']);
    expect(legend[0][1]).toMatch(/ \(latest\)$/);
    expect(legend[1][1]).toMatch(/^[0-2]$/);
    expect(legend[2][1]).toBe('2');
    const summary = await chartSummary(page, chart);
    expect(summary).toMatch(
      /^Last hour \(\d+ samples?, one per 1 min\): latest \(.+\) eligible [0-2], desired 2; over the window eligible .+, desired .+\.$/,
    );
    // What the chart was drawn from is what the server answers: as many samples (give or take a new bucket).
    const drawn = Number(/\((\d+) samples?/.exec(summary)?.[1]);
    const served = (await history('1h')).samples.length;
    expect(drawn).toBeGreaterThanOrEqual(1);
    expect(Math.abs(served - drawn)).toBeLessThanOrEqual(1);
    expect(await page.locator(`${chart} canvas`).count()).toBe(1);
    expect(await contrastFailures(page)).toEqual([]);
    await page.mouse.move(0, 0);
    await page.screenshot({
      path: `${ARTIFACTS_DIR}dashboard-history-1280.png`,
      fullPage: true,
      animations: 'disabled',
    });

    // The window switch: reached with Tab after the toolbar, changed with the arrow keys; each choice asks the
    // server for that window and says which one is shown.
    await page.locator('#pause-toggle').focus();
    await page.keyboard.press('Tab');
    expect(await activeElement(page)).toBe('window-1h');
    expect((await pressAndCatchRequest(page, 'ArrowRight', '24h')).searchParams.get('window')).toBe('24h');
    await waitForText(page, field(presetId, 'history-window'), 'Last 24 hours');
    expect(await chartSummary(page, chart)).toMatch(/^Last 24 hours \(\d+ samples?, one per 15 min\): /);
    expect(await page.locator(field(presetId, 'hit-rate')).textContent()).toBe('67%');
    expect(await page.locator('#window-24h').isChecked()).toBe(true);
    // The choice shows: the checked segment is filled, the others are not.
    const segments = await page.evaluate(() =>
      ['1h', '24h', '7d'].map(
        (w) =>
          getComputedStyle(document.querySelector(`label[for="window-${w}"]`) as Element).backgroundColor,
      ),
    );
    expect(segments).toEqual(['rgb(255, 255, 255)', 'rgb(29, 78, 216)', 'rgb(255, 255, 255)']);
    await pressAndCatchRequest(page, 'ArrowRight', '7d');
    await waitForText(page, field(presetId, 'history-window'), 'Last 7 days');
    expect(await chartSummary(page, chart)).toMatch(/^Last 7 days \(\d+ samples?, one per 2 h\): /);
    expect(await contrastFailures(page)).toEqual([]);
    await page.keyboard.press('ArrowLeft');
    await pressAndCatchRequest(page, 'ArrowLeft', '1h');
    await waitForText(page, field(presetId, 'history-window'), 'Last hour');
    expect(await activeElement(page)).toBe('window-1h');

    // The wider view: its button follows "Claim one"; Enter opens it with focus inside.
    await page.locator(`${card(presetId)} [data-action="claim"]`).focus();
    await page.keyboard.press('Tab');
    expect(await activeElement(page)).toBe('history');
    await page.keyboard.press('Enter');
    await page.locator('#history-dialog').waitFor({ state: 'visible' });
    expect(await activeElement(page)).toBe('history-dialog-close');
    expect(await page.locator('#history-dialog-title').textContent()).toBe('History of api-svc / eu');
    expect(await page.locator('#history-dialog-subtitle').textContent()).toMatch(
      /^Last hour, one sample per 1 min: .+ to .+$/,
    );
    expect(await page.locator('#history-dialog-hit-rate').textContent()).toMatch(
      /^Hit rate 67% \(2 claimed, 1 missed\): /,
    );
    await page.locator('#history-demand-legend .u-legend').waitFor();
    const pool = await legendOf(page, '#history-pool-legend');
    expect(pool.map(([label]) => label)).toEqual(['At', 'Eligible', 'Running', 'Starting', 'Desired']);
    expect(pool[4][1]).toBe('2');
    const demand = await legendOf(page, '#history-demand-legend');
    expect(demand.map(([label]) => label)).toEqual(['At', 'Claims', 'Misses']);
    expect(await chartSummary(page, '#history-demand-chart')).toMatch(
      /^Last hour \(\d+ samples?, one per 1 min\): 2 claims and 1 miss in all, hit rate 67%; latest bucket/,
    );

    // The samples as a table, opened by keyboard: one row per sample the charts drew, the claims and misses in it.
    await page.keyboard.press('Tab');
    expect(await activeElement(page)).toBe('dialog-window-1h');
    await page.keyboard.press('Tab');
    expect(await activeElement(page)).toBe('SUMMARY');
    await page.keyboard.press('Enter');
    await page.locator('#history-dialog-rows tr').first().waitFor();
    const table = await page.evaluate(() => {
      const rows = Array.from(document.querySelectorAll('#history-dialog-rows tr'));
      const column = (index: number) =>
        rows.reduce((sum, row) => sum + Number(row.children[index].textContent), 0);
      return {
        rows: rows.length,
        claims: column(5),
        misses: column(6),
        summary: document.getElementById('history-pool-chart')?.getAttribute('aria-label') ?? '',
      };
    });
    expect(table).toMatchObject({ claims: 2, misses: 1 });
    expect(table.summary).toContain(`(${table.rows} sample${table.rows === 1 ? '' : 's'}, one per 1 min)`);
    expect(await contrastFailures(page)).toEqual([]);
    await page.screenshot({
      path: `${ARTIFACTS_DIR}dashboard-history-dialog-1280.png`,
      animations: 'disabled',
    });

    // The dialog's own window switch is the same choice as the page's.
    await page.keyboard.press('Shift+Tab');
    expect(await activeElement(page)).toBe('dialog-window-1h');
    await pressAndCatchRequest(page, 'ArrowRight', '24h');
    await page.waitForFunction(
      () =>
        document
          .getElementById('history-dialog-subtitle')
          ?.textContent?.startsWith('Last 24 hours, one sample per 15 min'),
      undefined,
      { timeout: 10_000, polling: 50 },
    );
    expect(await page.locator('#window-24h').isChecked()).toBe(true);
    await waitForText(page, field(presetId, 'history-window'), 'Last 24 hours');
    await pressAndCatchRequest(page, 'ArrowLeft', '1h');
    await waitForText(page, field(presetId, 'history-window'), 'Last hour');

    // Escape closes it and gives focus back to the button that opened it; so does the Close button.
    await page.keyboard.press('Escape');
    await page.locator('#history-dialog').waitFor({ state: 'hidden' });
    expect(await activeElement(page)).toBe('history');
    await page.keyboard.press('Enter');
    await page.locator('#history-dialog').waitFor({ state: 'visible' });
    expect(await activeElement(page)).toBe('history-dialog-close');
    await page.keyboard.press('Enter');
    await page.locator('#history-dialog').waitFor({ state: 'hidden' });
    expect(await activeElement(page)).toBe('history');

    // Narrow: the charts follow the card's width, nothing is wider than the window.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForFunction(
      (selector) => {
        const plot = document.querySelector(`${selector} .uplot`) as HTMLElement | null;
        const host = document.querySelector(selector) as HTMLElement | null;
        return window.innerWidth === 390 && plot && host && plot.offsetWidth <= host.clientWidth;
      },
      chart,
      { timeout: 5_000, polling: 50 },
    );
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.mouse.move(0, 0);
    await page.screenshot({
      path: `${ARTIFACTS_DIR}dashboard-history-390.png`,
      fullPage: true,
      animations: 'disabled',
    });
    await page.locator(`${card(presetId)} [data-action="history"]`).click();
    await page.locator('#history-pool-legend .u-legend').waitFor();
    await page.screenshot({
      path: `${ARTIFACTS_DIR}dashboard-history-dialog-390.png`,
      animations: 'disabled',
    });
    await page.keyboard.press('Escape');
    await page.locator('#history-dialog').waitFor({ state: 'hidden' });

    // Under the page's CSP (script-src 'self', style-src 'self'), uPlot and the page caused no violation, and no
    // script error. Then one on purpose, to show that the listener would have seen one.
    expect(await page.evaluate(() => window.cspViolations)).toEqual([]);
    expect(rig.scriptErrors(page)).toEqual([]);
    await page.evaluate(() => document.body.setAttribute('style', 'outline: 1px solid red'));
    await page.waitForFunction(
      () => window.cspViolations.some((v) => v.startsWith('style-src-attr')),
      undefined,
      {
        timeout: 5_000,
      },
    );
  }, 120_000);
});
