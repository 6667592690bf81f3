import { Injectable, Logger } from '@nestjs/common';
import { PrebuildsErrorCode, PrebuildsException } from 'nest-prebuilds';
import type { PrebuildsSubject } from 'nest-prebuilds';
import { generateApiToken, hashApiToken } from '../auth/api-token.js';
import { MAX_TOKENS_PER_USER, type TokenInfo, UserRepository } from '../auth/user.repository.js';
import type {
  CreatedTokenDto,
  CreatedUserDto,
  CreateUserDto,
  TokenDto,
  UserDto,
} from './dto/create-user.dto.js';

const iso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString());

function tokenView(token: TokenInfo): TokenDto {
  return {
    id: token.id,
    createdAt: iso(token.createdAt) as string,
    lastUsedAt: iso(token.lastUsedAt),
    expiresAt: iso(token.expiresAt),
  };
}

@Injectable()
export class UsersService {
  private readonly logger = new Logger(UsersService.name);

  constructor(private readonly users: UserRepository) {}

  /** Creates the user with a fresh token, in one transaction; the plain token leaves only in the answer. */
  async createUser(input: CreateUserDto, createdBy: PrebuildsSubject): Promise<CreatedUserDto> {
    const token = generateApiToken();
    const user = await this.users.createWithToken(input.username, input.roles, hashApiToken(token));
    if (!user) {
      throw new PrebuildsException(
        PrebuildsErrorCode.NameTaken,
        `username: '${input.username}' is already taken`,
      );
    }
    this.logger.log({
      msg: 'user created',
      event: 'user_created',
      userId: user.id,
      username: user.username,
      roles: user.roles,
      createdBy: createdBy.id,
    });
    return { id: user.id, username: user.username, roles: user.roles, token };
  }

  async listTokens(subject: PrebuildsSubject): Promise<TokenDto[]> {
    return (await this.users.listTokens(subject.id)).map(tokenView);
  }

  async createToken(subject: PrebuildsSubject, expiresInSeconds: number | null): Promise<CreatedTokenDto> {
    const token = generateApiToken();
    const created = await this.users.createToken(subject.id, hashApiToken(token), expiresInSeconds);
    if (created === null) throw new PrebuildsException(PrebuildsErrorCode.Unauthenticated, 'user removed');
    if (created === 'limit') {
      throw new PrebuildsException(
        PrebuildsErrorCode.Conflict,
        `you have ${MAX_TOKENS_PER_USER} tokens, the most allowed; revoke one first`,
      );
    }
    this.logger.log({
      msg: 'token created',
      event: 'token_created',
      userId: subject.id,
      tokenId: created.id,
      expiresAt: iso(created.expiresAt),
    });
    return { ...tokenView(created), token };
  }

  async revokeToken(subject: PrebuildsSubject, tokenId: string): Promise<void> {
    if (!(await this.users.revokeToken(subject.id, tokenId))) {
      throw new PrebuildsException(PrebuildsErrorCode.NotFound, `token ${tokenId} not found`);
    }
    this.logger.log({ msg: 'token revoked', event: 'token_revoked', userId: subject.id, tokenId });
  }

  async setRoles(userId: string, roles: string[], by: PrebuildsSubject): Promise<UserDto> {
    const change = await this.users.setRoles(userId, roles);
    if (change.outcome === 'not_found') {
      throw new PrebuildsException(PrebuildsErrorCode.NotFound, `user ${userId} not found`);
    }
    if (change.outcome === 'last_owner') {
      throw new PrebuildsException(
        PrebuildsErrorCode.Conflict,
        'roles: the last owner must stay an owner; make another user owner first',
      );
    }
    this.logger.log({ msg: 'user roles changed', event: 'user_roles_changed', userId, roles, by: by.id });
    return change.value;
  }

  async removeUser(userId: string, by: PrebuildsSubject): Promise<void> {
    const change = await this.users.removeUser(userId);
    if (change.outcome === 'not_found') {
      throw new PrebuildsException(PrebuildsErrorCode.NotFound, `user ${userId} not found`);
    }
    if (change.outcome === 'last_owner') {
      throw new PrebuildsException(
        PrebuildsErrorCode.Conflict,
        'the last owner cannot be removed; make another user owner first',
      );
    }
    this.logger.log({ msg: 'user removed', event: 'user_removed', userId, by: by.id });
  }
}
