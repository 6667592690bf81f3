import { Injectable, Logger } from '@nestjs/common';
import { PrebuildsErrorCode, PrebuildsException } from 'nest-prebuilds';
import type { PrebuildsSubject } from 'nest-prebuilds';
import { generateApiToken, hashApiToken } from '../auth/api-token.js';
import { UserRepository } from '../auth/user.repository.js';
import type { CreatedUserDto, CreateUserDto } from './dto/create-user.dto.js';

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
}
