import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateBy,
  ValidateNested,
  buildMessage,
} from 'class-validator';
import {
  PARAMETER_TYPES,
  type ParameterInput,
  type ParameterType,
  type PrebuildsInput,
  type PresetInput,
  type ScheduleInput,
  type VersionInput,
} from './catalog.types.js';
import { MAX_TARGET_EXPRESSION_LENGTH } from '../state/target-expression.js';

/**
 * The `version` body of DESIGN.md. Shape, types and ranges only; what depends on several fields at once (cron form,
 * time zones, overlap, duplicates, undeclared parameters) is checked by planVersion before anything is written.
 * The limits keep one request from writing an unbounded number of rows.
 */

export const NAME_MAX_LENGTH = 64;
export const MAX_INSTANCES = 1000;
const VALUE_MAX_LENGTH = 4096;
const MAX_PARAMETERS = 200;
const MAX_PRESETS = 1000;
const MAX_SCHEDULES = 50;
/** ttl_seconds is an int4 column. */
const MAX_TTL_SECONDS = 2_147_483_647;

/** Non-empty, not blank, at most 64 characters. */
export function IsName(): PropertyDecorator {
  return applyDecorators(
    IsString(),
    Length(1, NAME_MAX_LENGTH),
    Matches(/\S/, { message: '$property must not be blank' }),
  );
}

function IsInstanceCount(): PropertyDecorator {
  return applyDecorators(IsInt(), Min(0), Max(MAX_INSTANCES));
}

/**
 * The raw map's own properties, copied as they are. class-transformer would otherwise rebuild the map itself and
 * skip every key whose name reads as a function on a plain object (`toString`, `valueOf`, …) and `__proto__`, so a
 * parameter of that name would vanish silently. Anything but a plain object is left for the validator to refuse.
 */
function ownEntries(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  return Object.fromEntries(Object.entries(raw));
}

/** A plain object whose values are all strings (preset parameter values): `{ region: 'eu' }`. */
export function IsStringRecord(): PropertyDecorator {
  return applyDecorators(
    Transform(({ obj, key }) => ownEntries((obj as Record<string, unknown>)[key])),
    isStringRecord(),
  );
}

function isStringRecord(): PropertyDecorator {
  return ValidateBy({
    name: 'isStringRecord',
    validator: {
      validate: (value: unknown) =>
        typeof value === 'object' &&
        value !== null &&
        !Array.isArray(value) &&
        Object.keys(value).length <= MAX_PARAMETERS &&
        Object.values(value).every((v) => typeof v === 'string' && v.length <= VALUE_MAX_LENGTH),
      defaultMessage: buildMessage(
        (each) =>
          `${each}$property must be an object of at most ${MAX_PARAMETERS} string values (≤ ${VALUE_MAX_LENGTH} characters)`,
      ),
    },
  });
}

export class ScheduleDto implements ScheduleInput {
  @ApiProperty({ example: '* 9-17 * * 1-5', description: "minute, day-of-month and month must be '*'" })
  @IsString()
  @MaxLength(200)
  cron: string;

  @ApiProperty({ minimum: 0, maximum: MAX_INSTANCES })
  @IsInstanceCount()
  instances: number;
}

export class PrebuildsDto implements PrebuildsInput {
  @ApiProperty({ minimum: 0, maximum: MAX_INSTANCES })
  @IsInstanceCount()
  instances: number;

  @ApiPropertyOptional({ minimum: 0, description: '0 or absent: prebuilds never expire by age' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_TTL_SECONDS)
  ttlSeconds?: number;

  @ApiPropertyOptional({ example: 'Europe/Berlin', description: 'IANA time zone; required with schedules' })
  @IsOptional()
  @IsString()
  @MaxLength(NAME_MAX_LENGTH)
  timezone?: string;

  @ApiPropertyOptional({ type: [ScheduleDto] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_SCHEDULES)
  @ValidateNested({ each: true })
  @Type(() => ScheduleDto)
  schedules?: ScheduleDto[];

  @ApiPropertyOptional({
    example: 'max(scheduled_target, claims_10m + 2)',
    maxLength: MAX_TARGET_EXPRESSION_LENGTH,
    description:
      'CEL expression giving the target instead of `instances` (clamped to [0, maxInstancesPerPreset]; on an ' +
      'evaluation error the scheduled target is used). Integers: base, scheduled_target, running, eligible, ' +
      'starting, stopping, deleting, expired, hour, weekday (0 = Sunday, in `timezone`, UTC without one), ' +
      'claims_5m|10m|30m|60m|120m, misses_…; doubles: claim_rate_… (claims per minute). Functions: min, max, abs, ' +
      'ceil, floor, round, clamp. Checked at input: it must parse, type-check and give a number.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_TARGET_EXPRESSION_LENGTH)
  instancesExpression?: string;
}

export class PresetDto implements PresetInput {
  @ApiProperty({ maxLength: NAME_MAX_LENGTH })
  @IsName()
  name: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { region: 'eu' },
  })
  @IsOptional()
  @IsStringRecord()
  parameters?: Record<string, string>;

  @ApiPropertyOptional({ type: PrebuildsDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => PrebuildsDto)
  prebuilds?: PrebuildsDto;
}

export class ParameterDto implements ParameterInput {
  @ApiProperty({ maxLength: NAME_MAX_LENGTH })
  @IsName()
  name: string;

  @ApiPropertyOptional({ enum: PARAMETER_TYPES, default: 'string' })
  @IsOptional()
  @IsIn(PARAMETER_TYPES)
  type?: ParameterType;

  @ApiPropertyOptional({ default: false })
  @IsOptional()
  @IsBoolean()
  required?: boolean;

  @ApiPropertyOptional({ description: 'used when a build does not set the parameter' })
  @IsOptional()
  @IsString()
  @MaxLength(VALUE_MAX_LENGTH)
  default?: string;
}

export class VersionDto implements VersionInput {
  @ApiProperty({ maxLength: NAME_MAX_LENGTH })
  @IsName()
  name: string;

  @ApiPropertyOptional({ type: [ParameterDto] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_PARAMETERS)
  @ValidateNested({ each: true })
  @Type(() => ParameterDto)
  parameters?: ParameterDto[];

  @ApiPropertyOptional({ type: [PresetDto] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_PRESETS)
  @ValidateNested({ each: true })
  @Type(() => PresetDto)
  presets?: PresetDto[];
}
