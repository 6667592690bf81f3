import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDefined, IsOptional, IsUUID, ValidateNested } from 'class-validator';
import type { CreateTemplateInput } from '../templates.types.js';
import { IsName, NAME_MAX_LENGTH, VersionDto } from './version.dto.js';

/** `POST /templates`: a template with its first (active) version. */
export class CreateTemplateDto implements CreateTemplateInput {
  @ApiProperty({ maxLength: NAME_MAX_LENGTH, description: 'unique per organization, case-insensitive' })
  @IsName()
  name: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'defaults to the default organization' })
  @IsOptional()
  @IsUUID('all')
  organizationId?: string;

  @ApiProperty({ type: VersionDto })
  @IsDefined()
  @ValidateNested()
  @Type(() => VersionDto)
  version: VersionDto;
}
