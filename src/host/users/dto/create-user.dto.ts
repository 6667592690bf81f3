import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayNotEmpty,
  ArrayUnique,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
} from 'class-validator';
import { PERMISSIONS, type Role, ROLES } from '../../auth/roles.js';

export const USERNAME_PATTERN = /^[a-z0-9][a-z0-9_-]*$/;

/** `POST /users`. */
export class CreateUserDto {
  @ApiProperty({ minLength: 1, maxLength: 64, pattern: USERNAME_PATTERN.source, example: 'alice' })
  @IsString()
  @Length(1, 64)
  @Matches(USERNAME_PATTERN, {
    message: 'username must start with a lowercase letter or digit and contain only a-z, 0-9, _ and -',
  })
  username: string;

  @ApiProperty({ enum: ROLES, isArray: true, minItems: 1, example: ['member'] })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayUnique()
  @IsIn(ROLES, { each: true })
  roles: Role[];
}

/** The created user, with its token: the only time the token is ever shown. */
export class CreatedUserDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() username: string;
  @ApiProperty({ enum: ROLES, isArray: true }) roles: string[];
  @ApiProperty({ description: 'bearer token; shown once, stored only as its SHA-256 digest' }) token: string;
}

/** `GET /users/me`: the signed-in user and the permissions its roles grant. */
export class CurrentUserDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() username: string;
  @ApiProperty({ enum: ROLES, isArray: true }) roles: string[];
  @ApiProperty({ enum: PERMISSIONS, isArray: true }) permissions: string[];
}

/** `PATCH /users/:id`: the user's new roles (all of them). */
export class UpdateUserRolesDto {
  @ApiProperty({ enum: ROLES, isArray: true, minItems: 1, example: ['member'] })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayUnique()
  @IsIn(ROLES, { each: true })
  roles: Role[];
}

/** `PATCH /users/:id`'s answer. */
export class UserDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() username: string;
  @ApiProperty({ enum: ROLES, isArray: true }) roles: string[];
}

/** The longest a token may live: ten years. */
export const MAX_TOKEN_LIFETIME_SECONDS = 315_360_000;

/** `POST /users/me/tokens`. */
export class CreateTokenDto {
  @ApiPropertyOptional({
    minimum: 1,
    maximum: MAX_TOKEN_LIFETIME_SECONDS,
    description: 'the token stops working this many seconds after its creation; unset → never expires',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_TOKEN_LIFETIME_SECONDS)
  expiresInSeconds?: number;
}

/** A token as listed: never its value nor its digest. */
export class TokenDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) lastUsedAt: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) expiresAt: string | null;
}

/** A created token, with its value: the only time it is ever shown. */
export class CreatedTokenDto extends TokenDto {
  @ApiProperty({ description: 'bearer token; shown once, stored only as its SHA-256 digest' }) token: string;
}
