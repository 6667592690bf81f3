import { Body, Get, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { PrebuildsController } from 'nest-prebuilds';
import { permissionsOf } from '../auth/roles.js';
import { RequirePermission } from 'nest-prebuilds';
import { CurrentSubject, type PrebuildsSubject } from 'nest-prebuilds';
import { CreatedUserDto, CreateUserDto, CurrentUserDto } from './dto/create-user.dto.js';
import { UsersService } from './users.service.js';

@PrebuildsController('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Post()
  @RequirePermission('users:create')
  @ApiOperation({ summary: 'Create a user and its API token (shown once)' })
  @ApiCreatedResponse({ type: CreatedUserDto })
  @ApiBadRequestResponse({ description: 'invalid or unknown field (code VALIDATION_FAILED)' })
  @ApiConflictResponse({ description: 'username taken (code NAME_TAKEN)' })
  create(@Body() dto: CreateUserDto, @CurrentSubject() subject: PrebuildsSubject): Promise<CreatedUserDto> {
    return this.users.createUser(dto, subject);
  }

  /** Any authenticated subject: who it is and what it may do (the dashboard shows only the actions it may use). */
  @Get('me')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'The signed-in user, its roles and the permissions they grant' })
  @ApiOkResponse({ type: CurrentUserDto })
  @ApiUnauthorizedResponse({ description: 'no authenticated subject (code UNAUTHENTICATED)' })
  me(@CurrentSubject() subject: PrebuildsSubject): CurrentUserDto {
    return {
      id: subject.id,
      username: subject.username,
      roles: subject.roles,
      permissions: [...permissionsOf(subject.roles)].sort(),
    };
  }
}
