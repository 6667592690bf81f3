import { Module } from '@nestjs/common';
import { BootstrapAdminService } from './auth/bootstrap-admin.service.js';
import { UserRepository } from './auth/user.repository.js';

@Module({
  providers: [UserRepository, BootstrapAdminService],
  exports: [UserRepository],
})
export class HostAuthModule {}
