import { Module } from '@nestjs/common';
import { AuthInvalidationService } from './auth/auth-invalidation.service.js';
import { BootstrapAdminService } from './auth/bootstrap-admin.service.js';
import { UserRepository } from './auth/user.repository.js';

@Module({
  providers: [AuthInvalidationService, UserRepository, BootstrapAdminService],
  exports: [UserRepository, AuthInvalidationService],
})
export class HostAuthModule {}
