import { Body, Controller, Get, NotFoundException, Param, Post } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { IsString } from 'class-validator';
import type { DataSource } from 'typeorm';

export class NoteDto {
  @IsString()
  text: string;
}

/** Routes Acme had before prebuilds; they must answer the same once the module is mounted. */
@Controller()
export class AcmeController {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  @Get('healthz')
  health() {
    return { ok: true, service: 'acme' };
  }

  @Get('users/:id')
  async user(@Param('id') id: string) {
    const [row] = await this.dataSource.query(`SELECT id, email, role FROM users WHERE id::text = $1`, [id]);
    if (!row) throw new NotFoundException(`no user ${id}`);
    return row;
  }

  @Get('workspaces')
  workspaces() {
    return this.dataSource.query(`SELECT id, owner_id AS "ownerId", title FROM workspaces ORDER BY id`);
  }

  @Post('notes')
  note(@Body() dto: NoteDto) {
    return { saved: dto };
  }
}
