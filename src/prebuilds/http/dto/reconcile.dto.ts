import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsUUID } from 'class-validator';

export class ReconcileDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'Reconcile only this template’s presets' })
  @IsOptional()
  @IsUUID()
  templateId?: string;
}
