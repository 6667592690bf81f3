import { Module } from '@nestjs/common';
import { HostAuthModule } from '../host-auth.module.js';
import { UsersController } from './users.controller.js';
import { UsersService } from './users.service.js';

/** `POST /users`. Needs the app's default TypeORM DataSource (through HostAuthModule's UserRepository). */
@Module({
  imports: [HostAuthModule],
  controllers: [UsersController],
  providers: [UsersService],
})
export class UsersModule {}
