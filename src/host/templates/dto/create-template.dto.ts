import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDefined, IsObject, IsOptional, IsString, MaxLength, ValidateNested } from 'class-validator';
import { IsName, NAME_MAX_LENGTH, VersionDto } from 'nest-prebuilds';
import type { CreateTemplateRequest } from '../templates.service.js';

/** `POST /templates`: a template with its first (active) version. */
export class CreateTemplateDto implements CreateTemplateRequest {
  @ApiProperty({ maxLength: NAME_MAX_LENGTH, description: 'unique per organization, case-insensitive' })
  @IsName()
  name: string;

  @ApiPropertyOptional({ description: 'defaults to the default organization (the only one this host has)' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  organizationId?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { region: 'eu' },
    description:
      'tags every job of the template carries; only provisioner keys holding them all take its jobs',
  })
  @IsOptional()
  @IsObject()
  provisionerTags?: Record<string, string>;

  @ApiProperty({ type: VersionDto })
  @IsDefined()
  @ValidateNested()
  @Type(() => VersionDto)
  version: VersionDto;
}
