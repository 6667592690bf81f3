import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { type HistoryWindow, HISTORY_WINDOWS } from '../../database/preset-history.repository.js';

export class PresetHistoryQueryDto {
  @ApiPropertyOptional({
    enum: HISTORY_WINDOWS,
    default: '1h',
    description: 'how far back: 1h in 60 s buckets, 24h in 15 min buckets, 7d in 2 h buckets',
  })
  @IsOptional()
  @IsIn(HISTORY_WINDOWS, { message: `window must be one of ${HISTORY_WINDOWS.join(', ')}` })
  window?: HistoryWindow;
}
