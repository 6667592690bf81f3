import { ApiProperty } from '@nestjs/swagger';
import { IsBoolean } from 'class-validator';

export class PrebuildsSettingsDto {
  @ApiProperty({ description: 'While true, cycles only report that they are paused; claims keep working' })
  @IsBoolean()
  reconciliationPaused: boolean;
}
