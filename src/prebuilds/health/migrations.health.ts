import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** Down while the database lacks a migration this build knows about (a replica newer than its schema). */
@Injectable()
export class MigrationsHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  check(key = 'migrations') {
    const session = this.health.check(key);
    return this.dataSource.showMigrations().then(
      (pending) => (pending ? session.down({ message: 'pending migrations' }) : session.up()),
      (error: Error) => session.down({ message: error.message }),
    );
  }
}
