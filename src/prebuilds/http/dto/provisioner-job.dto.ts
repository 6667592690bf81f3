import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsDefined,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { AGENT_LIFECYCLE_REPORTS, type AgentLifecycleReport } from '../../database/provisioner-job.types.js';

const WORKER_ID = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$/;

/** The longest text of one log line, and of a failure's error. */
export const LOG_LINE_MAX_LENGTH = 16_384;
export const MAX_LINES_PER_APPEND = 1_000;

export class WorkerDto {
  @ApiProperty({
    example: 'daemon-1:0',
    description: "the daemon's own name for this worker; 1-128 of A-Z a-z 0-9 _ . : @ -",
  })
  @IsString()
  @Matches(WORKER_ID, {
    message: 'workerId must be 1-128 of A-Z a-z 0-9 _ . : @ - (a letter or digit first)',
  })
  workerId: string;
}

export class AcquireJobDto extends WorkerDto {
  @ApiPropertyOptional({
    default: 0,
    maximum: 30_000,
    description: 'how long to wait for a job (ms); more than 30 000 waits 30 000',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  waitMs?: number;
}

export class LogLineDto {
  @ApiProperty({ enum: ['stdout', 'stderr'] })
  @IsIn(['stdout', 'stderr'])
  stream: 'stdout' | 'stderr';

  @ApiProperty({ maxLength: LOG_LINE_MAX_LENGTH })
  @IsString()
  @MaxLength(LOG_LINE_MAX_LENGTH)
  text: string;
}

export class AppendLogsDto extends WorkerDto {
  @ApiProperty({ type: [LogLineDto], maxItems: MAX_LINES_PER_APPEND })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_LINES_PER_APPEND)
  @ValidateNested({ each: true })
  @Type(() => LogLineDto)
  lines: LogLineDto[];
}

export class JobOutcomeDto {
  @ApiProperty({ enum: ['succeeded', 'failed'] })
  @IsIn(['succeeded', 'failed'])
  status: 'succeeded' | 'failed';

  @ApiPropertyOptional({
    description: 'required when failed (e.g. the last lines of the output)',
    maxLength: LOG_LINE_MAX_LENGTH,
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(LOG_LINE_MAX_LENGTH)
  error?: string;

  @ApiPropertyOptional({
    enum: AGENT_LIFECYCLE_REPORTS,
    description: 'the lifecycle the agent of a succeeded start is left in (default created)',
  })
  @IsOptional()
  @IsIn(AGENT_LIFECYCLE_REPORTS)
  agentLifecycle?: AgentLifecycleReport;
}

export class CompleteJobDto extends WorkerDto {
  @ApiProperty({ type: JobOutcomeDto })
  @IsDefined()
  @ValidateNested()
  @Type(() => JobOutcomeDto)
  outcome: JobOutcomeDto;
}

export class AgentLifecycleDto {
  @ApiProperty({ enum: AGENT_LIFECYCLE_REPORTS })
  @IsIn(AGENT_LIFECYCLE_REPORTS)
  state: AgentLifecycleReport;
}
