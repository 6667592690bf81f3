import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type HostProcess, startHostProcess } from '../support/host-process.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { waitFor } from '../support/wait-for.js';

const ADMIN_TOKEN = 'request-log-admin-token-0123456789';

interface RequestLine {
  level: number;
  msg: string;
  event: string;
  method: string;
  url: string;
  statusCode: number;
  responseTimeMs: number;
}

/** The request log as an operator reads it: `npm start`'s stdout at LOG_LEVEL=info. */
describe('the request log', () => {
  let db: TestDatabase;
  let host: HostProcess;
  let base: string;

  const requestLines = (): RequestLine[] =>
    host
      .output()
      .split('\n')
      .filter((line) => line.includes('"event":"http_request"'))
      .map((line) => JSON.parse(line) as RequestLine);

  beforeAll(async () => {
    db = await createTestDatabase({ migrated: false });
    host = await startHostProcess({
      DATABASE_URL: db.url,
      LOG_LEVEL: 'info',
      BOOTSTRAP_ADMIN_TOKEN: ADMIN_TOKEN,
      SEED_DEMO: 'false',
      PROVISIONER_ENABLED: 'false',
    });
    base = `http://127.0.0.1:${host.port}`;
  });
  afterAll(async () => {
    await host?.stop();
    await db.drop();
  });

  it('writes one line per answer, unknown paths and refusals included, and never a token or a probe', async () => {
    await fetch(`${base}/api/v2/users/me`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    await fetch(`${base}/api/v2/users/me`, { headers: { authorization: 'Bearer not-a-token-of-anyone' } });
    await fetch(`${base}/api/v2/no-such-route`, { method: 'POST', body: '{}' });
    await fetch(`${base}/api/v2/healthz`);
    await waitFor(async () => requestLines().length >= 3, {
      timeoutMs: 5_000,
      message: 'three request lines',
    });

    expect(
      requestLines().map(({ level, msg, method, url, statusCode }) => ({
        level,
        msg,
        method,
        url,
        statusCode,
      })),
    ).toEqual([
      { level: 30, msg: 'request completed', method: 'GET', url: '/api/v2/users/me', statusCode: 200 },
      { level: 30, msg: 'request completed', method: 'GET', url: '/api/v2/users/me', statusCode: 401 },
      { level: 30, msg: 'request completed', method: 'POST', url: '/api/v2/no-such-route', statusCode: 404 },
    ]);
    expect(requestLines().every((line) => Number.isInteger(line.responseTimeMs))).toBe(true);
    expect(host.output()).not.toContain(ADMIN_TOKEN);
    expect(host.output()).not.toContain('not-a-token-of-anyone');
  });
});
