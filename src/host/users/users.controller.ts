import { Body, Delete, Get, Header, HttpCode, Patch, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { PrebuildsController, UuidParam } from 'nest-prebuilds';
import { permissionsOf } from '../auth/roles.js';
import { RequirePermission } from 'nest-prebuilds';
import { CurrentSubject, type PrebuildsSubject } from 'nest-prebuilds';
import {
  CreatedTokenDto,
  CreatedUserDto,
  CreateTokenDto,
  CreateUserDto,
  CurrentUserDto,
  TokenDto,
  UpdateUserRolesDto,
  UserDto,
} from './dto/create-user.dto.js';
import { UsersService } from './users.service.js';

@PrebuildsController('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Post()
  @RequirePermission('users:create')
  // The answer carries a token: no cache (browser, proxy) may keep it.
  @Header('Cache-Control', 'no-store')
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

  @Get('me/tokens')
  @ApiBearerAuth()
  @ApiOperation({ summary: "The signed-in user's tokens (never their value nor digest)" })
  @ApiOkResponse({ type: TokenDto, isArray: true })
  @ApiUnauthorizedResponse({ description: 'no authenticated subject (code UNAUTHENTICATED)' })
  listTokens(@CurrentSubject() subject: PrebuildsSubject): Promise<TokenDto[]> {
    return this.users.listTokens(subject);
  }

  @Post('me/tokens')
  @ApiBearerAuth()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'A new token of the signed-in user (shown once), optionally expiring' })
  @ApiCreatedResponse({ type: CreatedTokenDto })
  @ApiBadRequestResponse({ description: 'invalid or unknown field (code VALIDATION_FAILED)' })
  @ApiConflictResponse({ description: 'the user has the most tokens allowed (code CONFLICT)' })
  @ApiUnauthorizedResponse({ description: 'no authenticated subject (code UNAUTHENTICATED)' })
  createToken(
    @Body() dto: CreateTokenDto,
    @CurrentSubject() subject: PrebuildsSubject,
  ): Promise<CreatedTokenDto> {
    return this.users.createToken(subject, dto.expiresInSeconds ?? null);
  }

  @Delete('me/tokens/:id')
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Revoke one of my tokens: it fails on every replica within a second' })
  @ApiNoContentResponse({ description: 'revoked' })
  @ApiNotFoundResponse({ description: 'no such token of mine (code NOT_FOUND)' })
  @ApiUnauthorizedResponse({ description: 'no authenticated subject (code UNAUTHENTICATED)' })
  revokeToken(@UuidParam('id') id: string, @CurrentSubject() subject: PrebuildsSubject): Promise<void> {
    return this.users.revokeToken(subject, id);
  }

  @Patch(':id')
  @RequirePermission('users:create')
  @ApiOperation({ summary: "Replace a user's roles (takes effect on every replica within a second)" })
  @ApiOkResponse({ type: UserDto })
  @ApiBadRequestResponse({ description: 'invalid or unknown field (code VALIDATION_FAILED)' })
  @ApiNotFoundResponse({ description: 'no such user (code NOT_FOUND)' })
  @ApiConflictResponse({ description: 'would leave no owner (code CONFLICT)' })
  setRoles(
    @UuidParam('id') id: string,
    @Body() dto: UpdateUserRolesDto,
    @CurrentSubject() subject: PrebuildsSubject,
  ): Promise<UserDto> {
    return this.users.setRoles(id, dto.roles, subject);
  }

  @Delete(':id')
  @HttpCode(204)
  @RequirePermission('users:create')
  @ApiOperation({ summary: 'Remove a user and its tokens (its workspaces stay)' })
  @ApiNoContentResponse({ description: 'removed' })
  @ApiNotFoundResponse({ description: 'no such user (code NOT_FOUND)' })
  @ApiConflictResponse({ description: 'the last owner (code CONFLICT)' })
  remove(@UuidParam('id') id: string, @CurrentSubject() subject: PrebuildsSubject): Promise<void> {
    return this.users.removeUser(id, subject);
  }
}
