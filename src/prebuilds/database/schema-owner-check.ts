import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { InjectPrebuildsDataSource } from './prebuilds-data-source.js';
import { PrebuildsNamespace } from './prebuilds-namespace.js';
import { assertSchemaOwner } from './run-migrations.js';

/** Refuses to start on a schema migrated for another prebuilds owner id (see assertSchemaOwner). */
@Injectable()
export class SchemaOwnerCheck implements OnModuleInit {
  constructor(
    @InjectPrebuildsDataSource() private readonly dataSource: DataSource,
    private readonly ns: PrebuildsNamespace,
  ) {}

  onModuleInit(): Promise<void> {
    return assertSchemaOwner((sql, params) => this.dataSource.query(sql, params), this.ns);
  }
}
