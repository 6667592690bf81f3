import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

interface Outcome {
  code: number | null;
  stderr: string;
}

/** Runs the built host app (`npm start` without the build step) and waits for it to exit. */
function startHost(env: Record<string, string>): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['dist/src/main.js'], {
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent', PREBUILDS_ENABLED: 'false', ...env },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, stderr });
    });
  });
}

describe('host app start-up with bad configuration', () => {
  let db: TestDatabase;
  let blocker: Server;
  let takenPort: number;

  beforeAll(async () => {
    db = await createTestDatabase();
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '0.0.0.0', resolve));
    takenPort = (blocker.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => blocker.close(resolve));
    await db.drop();
  });

  // Each case spawns the app (~2 s). Which values the configuration refuses, and with what words, is
  // src/host/config/host-config.spec.ts; here one of them shows that any refusal ends the process with its one line,
  // and the other two fail only at run time (the database, the port).
  const cases: [string, () => Record<string, string>, RegExp][] = [
    [
      'an unreachable DATABASE_URL',
      () => ({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nothing' }),
      /^error: cannot connect to DATABASE_URL \(127\.0\.0\.1:1\)/,
    ],
    [
      'a PORT already taken',
      () => ({ DATABASE_URL: db.url, PORT: String(takenPort) }),
      /^error: port \d+ is already in use; set PORT/,
    ],
    [
      'a bad PREBUILDS_INTERVAL_MS',
      () => ({ PREBUILDS_INTERVAL_MS: '-5' }),
      /^error: PREBUILDS_INTERVAL_MS must be/,
    ],
  ];

  it.each(cases)('ends with one line naming the problem for %s', async (_name, env, message) => {
    const outcome = await startHost(env());
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toMatch(message);
    expect(outcome.stderr.trim().split('\n')).toHaveLength(1);
  });
});
