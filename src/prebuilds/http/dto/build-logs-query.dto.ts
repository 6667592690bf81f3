import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, Matches } from 'class-validator';

export class BuildLogsQueryDto {
  @ApiPropertyOptional({
    enum: ['true', 'false'],
    description:
      'stream the lines as server-sent events until the build ends (as Accept: text/event-stream does)',
  })
  @IsOptional()
  @IsIn(['true', 'false'])
  follow?: 'true' | 'false';

  @ApiPropertyOptional({
    description: 'only lines after this line id (SSE clients may send Last-Event-ID instead)',
  })
  @IsOptional()
  @Matches(/^\d{1,15}$/, { message: 'after must be a line id (a non-negative integer)' })
  after?: string;
}
