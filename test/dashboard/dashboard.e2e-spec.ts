/// <reference lib="dom" />
// The page.evaluate / waitForFunction callbacks run in the browser, hence the DOM types.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import type { HostTestApp } from '../support/host-app.js';
import { holdsThrough, waitFor } from '../support/wait-for.js';
import {
  ARTIFACTS_DIR,
  card,
  contrastFailures,
  describeInBrowser,
  field,
  waitForText,
} from './browser-kit.js';
import { type DashboardRig, startDashboardRig } from './dashboard-rig.js';

/**
 * The dashboard in a real headless Chromium (Debian's `chromium`, driven by playwright-core) against the whole host
 * app listening on a port, with the reconcile loop and the simulated provisioner running.
 */
describeInBrowser('dashboard at GET / in headless Chromium', () => {
  let rig: DashboardRig;
  let host: HostTestApp;
  let templateId: string;
  let presetId: string;

  const asOwner = () => ({ Authorization: `Bearer ${host.tokens.owner}` });

  /** The preset in GET /prebuilds/status, as the owner sees it. */
  async function presetStatus(): Promise<Record<string, number> | undefined> {
    const status = await host.http.get('/api/v2/prebuilds/status').set(asOwner()).expect(200);
    return status.body.presets.find((p: { presetId: string }) => p.presetId === presetId);
  }

  /** Polls GET /prebuilds/status (as the owner) until the preset satisfies `done`. */
  async function waitForServer(done: (preset: Record<string, number>) => boolean, timeout = 20_000) {
    let last: Record<string, number> | undefined;
    await waitFor(
      async () => {
        last = await presetStatus();
        return last !== undefined && done(last);
      },
      { timeoutMs: timeout, intervalMs: 50, message: "the preset's status" },
    ).catch((error: Error) => {
      throw new Error(`${error.message}; last: ${JSON.stringify(last)}`);
    });
  }

  /** Clicks "claim one" and waits for its outcome ('claimed' or 'built'); the click clears the previous one. */
  async function claimOne(page: Page): Promise<string | null> {
    await page.locator(`${card(presetId)} [data-action="claim"]`).click();
    const result = page.locator(`${card(presetId)} [data-field="result"][data-outcome]`);
    await result.waitFor();
    return result.getAttribute('data-outcome');
  }

  beforeAll(async () => {
    rig = await startDashboardRig();
    host = rig.host;

    // Paused first, so that the page sees the pool at 0 before it fills.
    await host.http
      .put('/api/v2/prebuilds/settings')
      .set(asOwner())
      .send({ reconciliationPaused: true })
      .expect(200);
    const created = await host.http
      .post('/api/v2/templates')
      .set(asOwner())
      .send({
        name: 'web-app',
        version: {
          name: 'v1',
          parameters: [{ name: 'region', default: 'eu' }],
          presets: [{ name: 'eu-small', parameters: { region: 'eu' }, prebuilds: { instances: 2 } }],
        },
      })
      .expect(201);
    templateId = created.body.id;
    presetId = created.body.activeVersion.presets[0].id;
  }, 60_000);

  afterAll(async () => {
    await rig?.close();
  });

  it('serves the page and its files from the source folder, with a CSP', async () => {
    const page = await host.http.get('/').expect(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toContain("connect-src 'self'");
    expect(page.text).toContain('/api/v2/dashboard/dashboard.js');
    const script = await host.http.get('/api/v2/dashboard/dashboard.js').expect(200);
    expect(script.headers['content-type']).toMatch(/^text\/javascript/);
    const style = await host.http.get('/api/v2/dashboard/dashboard.css').expect(200);
    expect(style.headers['content-type']).toMatch(/^text\/css/);
    await host.http.get('/api/v2/dashboard/index.html').expect(404);
    await host.http.get('/api/v2/dashboard/..%2Fdashboard.controller.ts').expect(404);
  });

  it('GET /users/me answers who the token is and what it may do', async () => {
    const me = await host.http
      .get('/api/v2/users/me')
      .set('Authorization', `Bearer ${host.tokens.member}`)
      .expect(200);
    expect(me.body).toEqual({
      id: host.userIds.member,
      username: 'test-member',
      roles: ['member'],
      permissions: ['templates:read', 'workspaces:create', 'workspaces:read'],
    });
    await host.http.get('/api/v2/users/me').expect(401);
  });

  it('rejects a wrong token and keeps nothing', async () => {
    const page = await rig.openPage();
    await page.waitForFunction(() => document.activeElement?.id === 'token');
    await page.keyboard.type('not-a-token');
    await page.keyboard.press('Enter');
    await waitForText(page, '#signin-error', 'That token was not accepted. Check it and try again.');
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    expect(page.url()).toBe(`${rig.baseUrl}/`);
  });

  it('owner: watches the pool fill from 0, claims, pauses, resumes, reconciles; keyboard and contrast', async () => {
    const page = await rig.openPage();
    await rig.signIn(page, host.tokens.owner);
    await waitForText(page, '#identity-text', 'Signed in as admin (owner)');

    // Paused: the card is there with nothing in it yet, and says so.
    await page.locator(card(presetId)).waitFor();
    await waitForText(page, field(presetId, 'desired'), '2');
    await waitForText(page, field(presetId, 'eligible'), '0');
    await expect(page.locator(`${card(presetId)} [data-badge="paused"]`).isVisible()).resolves.toBe(true);
    await waitForText(page, '#loop-state', 'paused');
    expect(await page.locator(`${card(presetId)} h3`).textContent()).toBe('eu-small');
    expect(await page.locator(`section[data-template-id="${templateId}"] h2`).textContent()).toBe('web-app');
    expect(await page.locator(`${card(presetId)} .source`).textContent()).toBe('Desired from the base count');
    expect(await contrastFailures(page)).toEqual([]);

    // Every action is reachable with Tab, and focus shows.
    const stops: string[] = [];
    for (let i = 0; i < 20; i++) {
      await page.keyboard.press('Tab');
      stops.push(
        await page.evaluate(() => {
          const active = document.activeElement as HTMLElement | null;
          return active?.id || active?.dataset.action || active?.tagName || '';
        }),
      );
    }
    expect(stops).toEqual(
      expect.arrayContaining(['sign-out', 'reconcile', 'pause-toggle', 'invalidate', 'claim']),
    );
    await page.locator('#pause-toggle').focus();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Shift+Tab');
    const outline = await page.evaluate(() => {
      const style = getComputedStyle(document.activeElement as Element);
      return `${document.activeElement?.id} ${style.outlineStyle} ${style.outlineWidth}`;
    });
    expect(outline).toBe('pause-toggle solid 3px');

    // Resume with the keyboard: the pool fills from 0 to the desired 2.
    expect(await page.locator('#pause-toggle').textContent()).toBe('Resume reconciliation');
    await page.keyboard.press('Enter');
    await waitForText(page, '#toolbar-result', 'Reconciliation resumed.');
    await waitForText(page, '#loop-state', 'running');
    await waitForText(page, field(presetId, 'eligible'), '2');
    await waitForText(page, field(presetId, 'actual'), '2');
    await page.locator(`${card(presetId)} [data-badge="healthy"]`).waitFor();
    expect(await page.locator(`${card(presetId)} [data-badge="paused"]`).count()).toBe(0);
    await waitForText(page, '#pause-toggle', 'Pause reconciliation');
    expect(await page.locator('#last-cycle').textContent()).toMatch(
      /^.+ \(\d+ s ago\) · took \d+ ms · ran on this replica \(.+\)$/,
    );

    // A claim while running: handed over from the pool, and the pool refills to 2 (a NOTIFY wakes the loop).
    const result = page.locator(`${card(presetId)} [data-field="result"]`);
    expect(await claimOne(page)).toBe('claimed');
    expect(await result.textContent()).toMatch(
      /^Claimed: workspace claim-[a-z0-9-]+ is yours, handed over from the pool in \d+ ms\.$/,
    );
    // The page may still render a status read just before the claim: wait for the server to have refilled first.
    await waitForServer((preset) => preset.eligible === 2 && preset.starting === 0);
    await waitForText(page, field(presetId, 'eligible'), '2');

    // Pause: the badge shows; a claim still works, and eligible drops to 1 and stays there.
    await page.locator('#pause-toggle').click();
    await waitForText(page, '#loop-state', 'paused');
    await page.locator(`${card(presetId)} [data-badge="paused"]`).waitFor();
    await waitForText(page, '#pause-toggle', 'Resume reconciliation');
    await page.evaluate((selector) => {
      (document.querySelector(selector) as HTMLElement).dataset.marker = 'same-node';
    }, card(presetId));
    expect(await claimOne(page)).toBe('claimed');
    await waitForText(page, field(presetId, 'eligible'), '1');
    // Through two cycle intervals and a refresh, on the page and on the server: still 1, nothing started.
    const text = (name: string) => page.locator(field(presetId, name)).textContent();
    await holdsThrough(
      async () =>
        (await text('eligible')) === '1' &&
        (await text('starting')) === '0' &&
        (await presetStatus())?.starting === 0,
      { windowMs: 2_500, intervalMs: 100, message: 'a paused pool stays at 1, nothing starting' },
    );
    // Updated in place across refreshes: the same card node, and the clicked button keeps focus.
    expect(await page.locator(`${card(presetId)}[data-marker="same-node"]`).count()).toBe(1);
    expect(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.action)).toBe('claim');

    // Resume: the pool refills.
    await page.locator('#pause-toggle').click();
    await waitForText(page, '#loop-state', 'running');
    await waitForText(page, field(presetId, 'eligible'), '2');
    expect(await page.locator(`${card(presetId)} [data-badge="paused"]`).count()).toBe(0);

    const claimed: { name: string }[] = await host.dataSource.query(
      `SELECT name FROM prebuilds.workspaces WHERE owner_id = $1 AND template_id = $2 ORDER BY created_at`,
      [host.userIds.owner, templateId],
    );
    expect(claimed).toHaveLength(2);
    for (const workspace of claimed) expect(workspace.name).toMatch(/^claim-/);

    // No flicker: once settled, refreshes leave the pools' DOM alone (no node, attribute or text rewritten). Settled:
    // the server's pool is full and idle, and the page has refreshed once since. The history charts are left out:
    // a new bucket starts every minute, and drawing it is new data, not flicker (dashboard-history.e2e-spec.ts).
    await waitForServer((preset) => preset.eligible === 2 && preset.actual === 2 && preset.starting === 0);
    await page.waitForResponse((response) => response.url().endsWith('/api/v2/prebuilds/status'), {
      timeout: 10_000,
    });
    await waitForText(page, field(presetId, 'eligible'), '2');
    const mutations = await page.evaluate(
      () =>
        new Promise<number>((resolve) => {
          let count = 0;
          const inChart = (node: Node) =>
            (node instanceof Element ? node : node.parentElement)?.closest('.history-chart, .history-legend');
          const observer = new MutationObserver(
            (records) => (count += records.filter((record) => !inChart(record.target)).length),
          );
          observer.observe(document.getElementById('templates') as HTMLElement, {
            subtree: true,
            childList: true,
            attributes: true,
            characterData: true,
          });
          setTimeout(() => {
            observer.disconnect();
            resolve(count);
          }, 4500);
        }),
    );
    expect(mutations).toBe(0);

    // Reconcile now: the per-preset result.
    await page.locator('#reconcile').click();
    await page.locator('#reconcile-result').waitFor({ state: 'visible' });
    const row = page.locator(`#reconcile-rows tr[data-preset-id="${presetId}"]`);
    await row.waitFor();
    expect(await row.locator('th').textContent()).toBe('web-app / eu-small');
    expect(await row.locator('td').first().textContent()).toBe('2');
    expect(await page.locator('#toolbar-result').textContent()).toMatch(
      /^Reconciled \d+ presets? in \d+ ms\.$/,
    );

    // The filled dashboard, at both widths; nothing wider than the window; contrast still passes.
    expect(await contrastFailures(page)).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1280);
    await page.mouse.move(0, 0);
    await page.screenshot({
      path: `${ARTIFACTS_DIR}dashboard-1280.png`,
      fullPage: true,
      animations: 'disabled',
    });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForFunction(() => window.innerWidth === 390, undefined, { timeout: 5_000 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({
      path: `${ARTIFACTS_DIR}dashboard-390.png`,
      fullPage: true,
      animations: 'disabled',
    });

    // A reload keeps the session (sessionStorage), and the token is in no URL and no cookie.
    await page.reload();
    await waitForText(page, '#identity-text', 'Signed in as admin (owner)');
    await waitForText(page, field(presetId, 'eligible'), '2');
    expect(page.url()).toBe(`${rig.baseUrl}/`);
    expect(await page.evaluate(() => document.cookie)).toBe('');
    expect(await page.context().cookies()).toEqual([]);

    // Sign out forgets the token.
    await page.locator('#sign-out').click();
    await page.locator('#signin').waitFor({ state: 'visible' });
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    expect(rig.scriptErrors(page)).toEqual([]);
  }, 120_000);

  it('says so when the API is unreachable, keeps the last data, and recovers', async () => {
    const page = await rig.openPage();
    await rig.signIn(page, host.tokens.owner);
    await waitForText(page, field(presetId, 'desired'), '2');
    await page.route('**/api/v2/prebuilds/status', (route) => route.abort('connectionrefused'));
    await page.locator('#unreachable').waitFor({ state: 'visible', timeout: 10_000 });
    expect(await page.locator('#unreachable').textContent()).toMatch(
      /^API unreachable \(no answer from the server\)\. Showing the data from .+\. Retrying every 2 s\.$/,
    );
    expect(await page.locator(field(presetId, 'desired')).textContent()).toBe('2');
    expect(await contrastFailures(page)).toEqual([]);
    await page.unroute('**/api/v2/prebuilds/status');
    await page.locator('#unreachable').waitFor({ state: 'hidden', timeout: 10_000 });
  }, 60_000);

  it('member: no admin buttons, and the admin routes answer 403 when called anyway', async () => {
    const page = await rig.openPage();
    await rig.signIn(page, host.tokens.member);
    await waitForText(page, '#identity-text', 'Signed in as test-member (member)');
    await page.locator('#forbidden').waitFor({ state: 'visible' });
    expect(await page.locator('#forbidden').textContent()).toContain('do not include prebuilds:read');
    expect(await page.locator('button:visible').allTextContents()).toEqual(['Sign out']);
    expect(
      await page.locator('#reconcile, #pause-toggle, [data-action]').filter({ visible: true }).count(),
    ).toBe(0);

    const settingsBefore = await host.http.get('/api/v2/prebuilds/settings').set(asOwner()).expect(200);
    const statuses = await page.evaluate(
      async ({ token, templateId, presetId }) => {
        const call = async (method: string, path: string, body?: unknown) => {
          const response = await fetch(`/api/v2${path}`, {
            method,
            headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
            body: body === undefined ? undefined : JSON.stringify(body),
          });
          return `${response.status} ${(await response.json()).code}`;
        };
        return {
          pause: await call('PUT', '/prebuilds/settings', { reconciliationPaused: true }),
          reconcile: await call('POST', '/prebuilds/reconcile', {}),
          resume: await call('POST', `/prebuilds/presets/${presetId}/resume`),
          invalidate: await call('POST', `/templates/${templateId}/prebuilds/invalidate`),
          status: await call('GET', '/prebuilds/status'),
        };
      },
      { token: host.tokens.member, templateId, presetId },
    );
    expect(statuses).toEqual({
      pause: '403 FORBIDDEN',
      reconcile: '403 FORBIDDEN',
      resume: '403 FORBIDDEN',
      invalidate: '403 FORBIDDEN',
      status: '403 FORBIDDEN',
    });
    const settings = await host.http.get('/api/v2/prebuilds/settings').set(asOwner()).expect(200);
    expect(settings.body).toEqual(settingsBefore.body);
  });

  it('template-admin and auditor see only the actions their roles allow', async () => {
    const templateAdmin = await rig.openPage();
    await rig.signIn(templateAdmin, host.tokens['template-admin']);
    await templateAdmin.locator(card(presetId)).waitFor();
    await waitForText(templateAdmin, field(presetId, 'desired'), '2');
    expect(await templateAdmin.locator('button:visible').allTextContents()).toEqual([
      'Sign out',
      'Reconcile now',
      'Invalidate prebuilds of template web-app',
      'Claim one from web-app / eu-small',
      'History of web-app / eu-small',
    ]);

    // Invalidate (it asks first): the pool's prebuilds expire and are replaced.
    templateAdmin.once('dialog', (dialog) => void dialog.accept());
    await templateAdmin
      .locator(`section[data-template-id="${templateId}"] [data-action="invalidate"]`)
      .click();
    await waitForText(
      templateAdmin,
      `section[data-template-id="${templateId}"] .action-result`,
      'Invalidated 1 preset: their prebuilds are being replaced.',
    );
    const [{ invalidated }] = await host.dataSource.query(
      `SELECT last_invalidated_at IS NOT NULL AS invalidated FROM prebuilds.template_version_presets WHERE id = $1`,
      [presetId],
    );
    expect(invalidated).toBe(true);
    await waitForServer((preset) => preset.eligible === 2 && preset.expired === 0);

    const auditor = await rig.openPage(390, 844);
    await rig.signIn(auditor, host.tokens.auditor);
    await auditor.locator(card(presetId)).waitFor();
    await waitForText(auditor, field(presetId, 'desired'), '2');
    expect(await auditor.locator('button:visible').allTextContents()).toEqual([
      'Sign out',
      'History of web-app / eu-small',
    ]);
  });

  it('badges: hard-limited with its resume button, validation failed; desired from a schedule or an expression', async () => {
    const created = await host.http
      .post('/api/v2/templates')
      .set(asOwner())
      .send({
        name: 'batch-jobs',
        version: {
          name: 'v1',
          parameters: [{ name: 'arch', default: 'x86' }],
          presets: [
            { name: 'gpu', parameters: { arch: 'gpu' }, prebuilds: { instances: 0 } },
            { name: 'arm', parameters: { arch: 'arm' }, prebuilds: { instances: 0 } },
            {
              name: 'nightly',
              parameters: { arch: 'x86' },
              prebuilds: {
                instances: 0,
                timezone: 'UTC',
                schedules: [{ cron: '* 0-23 * * *', instances: 1 }],
              },
            },
            {
              name: 'demand',
              parameters: { arch: 'arm64' },
              prebuilds: { instances: 0, instancesExpression: 'max(base, claims_10m) + 1' },
            },
            {
              name: 'broken',
              parameters: { arch: 'riscv' },
              prebuilds: { instances: 0, instancesExpression: '1 / base' },
            },
          ],
        },
      })
      .expect(201);
    const ids: Record<string, string> = Object.fromEntries(
      created.body.activeVersion.presets.map((p: { id: string; name: string }) => [p.name, p.id]),
    );
    await host.dataSource.query(
      `UPDATE prebuilds.template_version_presets
          SET prebuild_status = CASE WHEN id = $1 THEN 'hard_limited' ELSE 'validation_failed' END
        WHERE id IN ($1, $2)`,
      [ids.gpu, ids.arm],
    );

    const page = await rig.openPage();
    await rig.signIn(page, host.tokens.owner);
    await page.locator(`${card(ids.gpu)} [data-badge="hard-limited"]`).waitFor();
    await page.locator(`${card(ids.arm)} [data-badge="validation-failed"]`).waitFor();
    expect(await page.locator(`${card(ids.nightly)} .source`).textContent()).toBe(
      'Desired from schedule * 0-23 * * *',
    );
    expect(await page.locator(`${card(ids.demand)} .source`).textContent()).toBe(
      'Desired from the target expression (1) max(base, claims_10m) + 1',
    );
    expect(await page.locator(`${card(ids.broken)} .source`).textContent()).toBe(
      'Target expression failed (division by zero); desired from the base count',
    );
    await waitForText(page, field(ids.nightly, 'eligible'), '1');
    const resumeButtons = page.locator('[data-action="resume-preset"]').filter({ visible: true });
    expect(await resumeButtons.count()).toBe(1);
    expect(await resumeButtons.textContent()).toBe('Resume preset batch-jobs / gpu');
    expect(await contrastFailures(page)).toEqual([]);
    await page.mouse.move(0, 0);
    await page.screenshot({
      path: `${ARTIFACTS_DIR}dashboard-badges-1280.png`,
      fullPage: true,
      animations: 'disabled',
    });

    await resumeButtons.click();
    await waitForText(
      page,
      `${card(ids.gpu)} [data-field="result"]`,
      'Preset resumed: its failures are forgotten and creation restarts on the next cycle.',
    );
    await page.locator(`${card(ids.gpu)} [data-badge="healthy"]`).waitFor();
    expect(await page.locator(`${card(ids.gpu)} [data-action="resume-preset"]`).isVisible()).toBe(false);
    const [{ status }] = await host.dataSource.query(
      `SELECT prebuild_status AS status FROM prebuilds.template_version_presets WHERE id = $1`,
      [ids.gpu],
    );
    expect(status).toBe('healthy');
  });
});
