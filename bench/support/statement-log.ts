import type { Logger as TypeOrmLogger } from 'typeorm';

export interface CapturedStatement {
  query: string;
  parameters: unknown[];
}

/**
 * A TypeORM logger that counts every statement the module sends and, while `capture` is on, keeps their text and
 * parameters, so the bench can count statements per cycle and EXPLAIN exactly what ran (no SQL copied here).
 */
export class StatementLog implements TypeOrmLogger {
  count = 0;
  captured: CapturedStatement[] = [];
  capture = false;

  logQuery(query: string, parameters?: unknown[]): void {
    this.count += 1;
    if (this.capture) this.captured.push({ query, parameters: parameters ?? [] });
  }

  /** Runs `work` with capture on and returns what it sent. */
  async record(work: () => Promise<unknown>): Promise<CapturedStatement[]> {
    this.captured = [];
    this.capture = true;
    try {
      await work();
    } finally {
      this.capture = false;
    }
    return this.captured;
  }

  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}
