import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, IsUUID, Length, Matches } from 'class-validator';
import { IsStringRecord } from 'nest-prebuilds';

export class CreateWorkspaceDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  templateId: string;

  @ApiProperty({ example: 'my-workspace', description: '1–64 characters: letters, digits, - and _' })
  @IsString()
  @Length(1, 64)
  @Matches(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, {
    message: 'name must start with a letter or digit and contain only letters, digits, - and _',
  })
  name: string;

  @ApiPropertyOptional({
    format: 'uuid',
    description: "A preset of the template's active version; else matched from parameters",
  })
  @IsOptional()
  @IsUUID()
  presetId?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  @IsOptional()
  @IsStringRecord()
  parameters?: Record<string, string>;
}
