import { Body, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiOperation,
} from '@nestjs/swagger';
import { PrebuildsController } from '../../prebuilds/http/prebuilds-controller.decorator.js';
import { RequirePermission } from '../../prebuilds/rbac/require-permission.decorator.js';
import { CurrentSubject, type PrebuildsSubject } from '../../prebuilds/rbac/subject.js';
import { CreatedUserDto, CreateUserDto } from './dto/create-user.dto.js';
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
}
