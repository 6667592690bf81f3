import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The dashboard's files: the only names served, so a request can never reach another file. */
export const DASHBOARD_ASSETS = {
  'index.html': 'text/html; charset=utf-8',
  'dashboard.css': 'text/css; charset=utf-8',
  'dashboard.js': 'text/javascript; charset=utf-8',
} as const;

export type DashboardAsset = keyof typeof DASHBOARD_ASSETS;

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
