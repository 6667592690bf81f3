import { ApiProperty } from '@nestjs/swagger';
import { ArrayNotEmpty, ArrayUnique, IsArray, IsIn, IsString, Length, Matches } from 'class-validator';
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
