import { Module } from '@nestjs/common';
import { TemplateRepository } from './template.repository.js';
import { TemplatesController } from './templates.controller.js';
import { TemplatesService } from './templates.service.js';

/**
 * The host's templates. Needs the app's default TypeORM DataSource and, from the app, the prebuilds module's
 * PrebuildsPubsub and Clock providers (to announce changes and to timestamp rows).
 */
@Module({
  controllers: [TemplatesController],
  providers: [TemplateRepository, TemplatesService],
  exports: [TemplatesService],
})
export class TemplatesModule {}
