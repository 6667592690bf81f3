import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { mkdir, writeFile } from 'node:fs/promises';
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
    await mkdir(this.config.dataDir, { recursive: true });
    await writeFile(file, `${token}\n`, { mode: 0o600 });
    // Printed once, on purpose: the only place the plain token ever appears besides the 0600 file.
    process.stdout.write(`\nadmin token (also in ${file}): ${token}\n\n`);
  }
}
