import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length } from 'class-validator';

export class ReconcileDto {
  @ApiPropertyOptional({ description: 'Reconcile only this template’s presets (the host’s template id)' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  templateId?: string;
}
