import { afterEach, describe, expect, it } from '@jest/globals';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadHostConfig } from '../config/host-config.js';
import { BootstrapAdminService } from './bootstrap-admin.service.js';
import type { UserRepository } from './user.repository.js';

const fakeUsers = {
  ownerExists: async () => false,
  createWithToken: async () => ({ id: 'u1', username: 'admin', roles: ['owner'] }),
} as unknown as UserRepository;

const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

describe('BootstrapAdminService: the generated token file', () => {
  let root: string | undefined;
  afterEach(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  async function bootstrap(dataDir: string) {
    const config = loadHostConfig({ DATA_DIR: dataDir, DATABASE_URL: 'postgres://u@127.0.0.1:5432/db' });
    const write = process.stdout.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      await new BootstrapAdminService(fakeUsers, config).onApplicationBootstrap();
    } finally {
      process.stdout.write = write;
    }
  }

  it('is 0600 and its folder 0700 even when both existed with loose modes', async () => {
    root = await mkdtemp(join(tmpdir(), 'bootstrap-'));
    const dataDir = join(root, 'data');
    await mkdir(dataDir, { mode: 0o755 });
    await chmod(dataDir, 0o755);
    await writeFile(join(dataDir, 'admin-token'), 'old\n', { mode: 0o644 });
    await chmod(join(dataDir, 'admin-token'), 0o644);

    await bootstrap(dataDir);

    expect(await modeOf(join(dataDir, 'admin-token'))).toBe(0o600);
    expect(await modeOf(dataDir)).toBe(0o700);
    expect(await readFile(join(dataDir, 'admin-token'), 'utf8')).toMatch(/^pbt_[\w-]+\n$/);
  });

  it('creates a missing folder 0700 and the file 0600', async () => {
    root = await mkdtemp(join(tmpdir(), 'bootstrap-'));
    const dataDir = join(root, 'fresh', 'data');
    await bootstrap(dataDir);
    expect(await modeOf(dataDir)).toBe(0o700);
    expect(await modeOf(join(dataDir, 'admin-token'))).toBe(0o600);
  });
});
