import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HOST_CONFIG } from '../config/host-config.token.js';
import { Inject } from '@nestjs/common';
import type { HostConfig } from '../config/host-config.js';
import { generateApiToken, hashApiToken } from './api-token.js';
import { UserRepository } from './user.repository.js';

/**
 * A fresh control plane has nobody who could create users. On start, when no owner exists, create `admin` with
 * the token from BOOTSTRAP_ADMIN_TOKEN, or a generated one printed once and written to <dataDir>/admin-token.
 */
@Injectable()
export class BootstrapAdminService implements OnApplicationBootstrap {
  private readonly logger = new Logger(BootstrapAdminService.name);

  constructor(
    private readonly users: UserRepository,
    @Inject(HOST_CONFIG) private readonly config: HostConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (await this.users.ownerExists()) return;
    const token = this.config.bootstrapAdminToken ?? generateApiToken();
    const created = await this.users.createWithToken('admin', ['owner'], hashApiToken(token));
    if (!created) return; // another replica bootstrapped it first
    if (this.config.bootstrapAdminToken) {
      this.logger.log({
        msg: 'admin user created from BOOTSTRAP_ADMIN_TOKEN',
        event: 'bootstrap_admin_created',
      });
      return;
    }
    const file = join(this.config.dataDir, 'admin-token');
    await mkdir(this.config.dataDir, { recursive: true, mode: 0o700 });
    // mkdir's and writeFile's modes apply only to what they create (and pass through the umask): an existing folder
    // or file keeps its loose mode unless changed explicitly. The file is tightened before the token is written.
    // Run as root with the embedded PostgreSQL, the folder must stay reachable for the unprivileged user that
    // PostgreSQL runs as (embedded-postgres.ts would move the data elsewhere otherwise); the file is 0600 anyway.
    const embeddedAsRoot = this.config.databaseUrl === null && process.getuid?.() === 0;
    if (!embeddedAsRoot) await chmod(this.config.dataDir, 0o700);
    await writeFile(file, '', { mode: 0o600 });
    await chmod(file, 0o600);
    await writeFile(file, `${token}\n`, { mode: 0o600 });
    // Printed once, on purpose: the only place the plain token ever appears besides the 0600 file.
    process.stdout.write(`\nadmin token (also in ${file}): ${token}\n\n`);
  }
}
