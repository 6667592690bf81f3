import { Injectable, type NestMiddleware } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

/** Acme authenticates by a header (behind its gateway) and puts its user on `request.subject`. */
@Injectable()
export class HeaderAuthMiddleware implements NestMiddleware {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async use(
    request: Record<string, unknown> & { headers: Record<string, unknown> },
    _: unknown,
    next: () => void,
  ) {
    const id = request.headers['x-acme-user'];
    if (typeof id === 'string' && /^\d+$/.test(id)) {
      const [user] = await this.dataSource.query(
        `SELECT id::text AS id, email, role FROM users WHERE id = $1`,
        [id],
      );
      if (user) request.subject = { id: user.id, username: user.email, roles: [user.role] };
    }
    next();
  }
}
