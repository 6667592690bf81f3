import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { InjectPrebuildsDataSource } from './prebuilds-data-source.js';
import { PrebuildsNamespace } from './prebuilds-namespace.js';

/**
 * Refuses to start on a schema migrated for another prebuilds owner id: its partial indexes and every unclaimed
 * prebuild name that owner, so running with another id would silently see no prebuilds. A schema that is not
 * migrated yet passes (readiness reports the pending migrations).
 */
@Injectable()
export class SchemaOwnerCheck implements OnModuleInit {
  constructor(
    @InjectPrebuildsDataSource() private readonly dataSource: DataSource,
    private readonly ns: PrebuildsNamespace,
  ) {}

  async onModuleInit(): Promise<void> {
    const [row] = await this.dataSource.query(
      `SELECT CASE WHEN to_regclass($1) IS NULL THEN NULL
                   ELSE (SELECT prebuilds_owner_id FROM ${this.ns.schema}.prebuilds_settings) END AS owner`,
      [`${this.ns.schema}.prebuilds_settings`],
    );
    const owner: string | null = row?.owner ?? null;
    if (owner !== null && owner !== this.ns.ownerId) {
      throw new Error(
        `PrebuildsModule: schema "${this.ns.schemaName}" was migrated for prebuildsOwnerId "${owner}", ` +
          `but the module was given "${this.ns.ownerId}"`,
      );
    }
  }
}
