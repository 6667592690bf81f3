import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The dashboard's files: the only names served, so a request can never reach another file. */
export const DASHBOARD_ASSETS = {
  'index.html': 'text/html; charset=utf-8',
  'dashboard.css': 'text/css; charset=utf-8',
  'dashboard.js': 'text/javascript; charset=utf-8',
  'charts.js': 'text/javascript; charset=utf-8',
} as const;

export type DashboardAsset = keyof typeof DASHBOARD_ASSETS;

/**
 * Files the page loads from installed packages (`dependencies`, so that a production install has them), served
 * under `<prefix>/dashboard/vendor/<name>`: the page has no bundler and its CSP allows this origin only, so a
 * library reaches the browser through the dashboard controller rather than a CDN.
 */
export const DASHBOARD_VENDOR_ASSETS = {
  'uPlot.iife.min.js': {
    packageName: 'uplot',
    file: 'dist/uPlot.iife.min.js',
    contentType: 'text/javascript; charset=utf-8',
  },
  'uPlot.min.css': {
    packageName: 'uplot',
    file: 'dist/uPlot.min.css',
    contentType: 'text/css; charset=utf-8',
  },
} as const;

export type DashboardVendorAsset = keyof typeof DASHBOARD_VENDOR_ASSETS;

/**
 * Where the static files live. tsc compiles only .ts into dist/, so they are always read from the source folder:
 * next to this module when it runs from src/ (ts-jest), or src/host/dashboard/public/ seen from
 * dist/src/host/dashboard/ (`npm start`).
 */
export function resolveDashboardPublicDir(moduleUrl: string = import.meta.url): string {
  const candidates = [
    new URL('./public/', moduleUrl),
    new URL('../../../../src/host/dashboard/public/', moduleUrl),
  ].map((url) => fileURLToPath(url));
  const found = candidates.find((dir) => existsSync(`${dir}index.html`));
  if (!found) throw new Error(`dashboard files not found in ${candidates.join(' or ')}`);
  return found;
}

/**
 * The path of a vendor file, found the way Node finds the package from here (its package.json, then the file in
 * it), so it is right wherever npm put node_modules: from src/ or dist/, in a workspace or a fresh clone.
 */
export function resolveDashboardVendorAsset(
  asset: DashboardVendorAsset,
  moduleUrl: string = import.meta.url,
): string {
  const { packageName, file } = DASHBOARD_VENDOR_ASSETS[asset];
  const packageJson = createRequire(moduleUrl).resolve(`${packageName}/package.json`);
  return join(dirname(packageJson), file);
}
