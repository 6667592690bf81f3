import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsDefined, IsOptional, ValidateNested } from 'class-validator';
import { type PublishVersionInput, VersionDto } from 'nest-prebuilds';

/** `POST /templates/:id/versions`. */
export class CreateVersionDto implements PublishVersionInput {
  @ApiProperty({ type: VersionDto })
  @IsDefined()
  @ValidateNested()
  @Type(() => VersionDto)
  version: VersionDto;

  @ApiPropertyOptional({ default: false, description: 'make the new version the active one' })
  @IsOptional()
  @IsBoolean()
  activate?: boolean;
}
