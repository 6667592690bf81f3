import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsObject, IsOptional, IsString } from 'class-validator';

export class CreateProvisionerKeyDto {
  @ApiProperty({ example: 'prebuild-pool', description: 'unique among live keys; 1-64 of A-Z a-z 0-9 _ . -' })
  @IsString()
  name: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { is_prebuild: 'true', region: 'eu' },
    description:
      'a job is taken when its tags (but is_prebuild) are all in these; is_prebuild "true": prebuild jobs only, ' +
      '"false": user jobs only, absent: both',
  })
  @IsOptional()
  @IsObject()
  tags?: Record<string, string>;
}
