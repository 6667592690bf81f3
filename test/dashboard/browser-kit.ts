/// <reference lib="dom" />
// What the dashboard specs share: the browser (Debian's `chromium`, driven by playwright-core), where screenshots go,
// and the checks that run in the page (text waits, contrast). The page.evaluate / waitForFunction callbacks run in
// the browser, hence the DOM types.
import { describe } from '@jest/globals';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const ARTIFACTS_DIR = fileURLToPath(new URL('../artifacts/', import.meta.url));

const browserInstalled = existsSync(CHROMIUM_PATH);
// CI installs Chromium (.ci/run): there a missing browser is a broken setup, and a skipped suite would read as green.
if (!browserInstalled && process.env.CI && process.env.CI !== 'false') {
  throw new Error(
    `test/dashboard: no Chromium at ${CHROMIUM_PATH}, and CI=${process.env.CI} requires the dashboard tests. ` +
      'Install it (`apt-get install -y chromium`) or point CHROMIUM_PATH at a Chromium binary.',
  );
}
if (!browserInstalled) {
  console.warn(
    `test/dashboard skipped: no Chromium at ${CHROMIUM_PATH}. Install it with ` +
      '`apt-get update && apt-get install -y chromium` (or point CHROMIUM_PATH at a Chromium binary).',
  );
}
export const describeInBrowser = browserInstalled ? describe : describe.skip;

/** Waits until the element's text is exactly `text` (the page refreshes itself every 2 s). */
export async function waitForText(
  page: Page,
  selector: string,
  text: string,
  timeout = 20_000,
): Promise<void> {
  try {
    await page.waitForFunction(
      ([sel, expected]) => document.querySelector(sel)?.textContent === expected,
      [selector, text] as const,
      { timeout, polling: 50 },
    );
  } catch (error) {
    const actual = await page
      .locator(selector)
      .first()
      .textContent({ timeout: 1000 })
      .catch(() => null);
    throw new Error(`${selector}: expected "${text}", still "${actual}" after ${timeout} ms`, {
      cause: error,
    });
  }
}

export const card = (presetId: string) => `article[data-preset-id="${presetId}"]`;
export const field = (presetId: string, name: string) => `${card(presetId)} [data-field="${name}"]`;

/** Every visible text whose colour against its background fails WCAG AA (4.5:1, or 3:1 for large text). */
export function contrastFailures(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const parse = (color: string) => {
      const [r, g, b, a = 1] = (color.match(/[\d.]+/g) ?? []).map(Number);
      return { r, g, b, a };
    };
    const luminance = ({ r, g, b }: { r: number; g: number; b: number }) => {
      const channel = (v: number) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    };
    const backgroundOf = (element: Element) => {
      for (let node: Element | null = element; node; node = node.parentElement) {
        const color = parse(getComputedStyle(node).backgroundColor);
        if (color.a > 0) return color;
      }
      return { r: 255, g: 255, b: 255, a: 1 };
    };
    const failures: string[] = [];
    for (const element of Array.from(document.body.querySelectorAll('*'))) {
      const ownText = Array.from(element.childNodes)
        .filter((node) => node.nodeType === Node.TEXT_NODE)
        .map((node) => node.textContent ?? '')
        .join('')
        .trim();
      if (!ownText || !element.checkVisibility() || element.closest('.sr-only')) continue;
      const style = getComputedStyle(element);
      const l1 = luminance(parse(style.color));
      const l2 = luminance(backgroundOf(element));
      const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) failures.push(`"${ownText.slice(0, 40)}": ${ratio.toFixed(2)}:1`);
    }
    return failures;
  });
}
