import { applyDecorators, Controller, UseFilters, UsePipes, ValidationPipe } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { PrebuildsExceptionFilter } from './prebuilds-exception.filter.js';

/**
 * `@Controller(path)` for our routes, with what every one of them needs: our error shape (the filter is scoped here,
 * not global), bodies and queries validated with unknown fields rejected (whatever pipes the host sets globally),
 * and an OpenAPI tag (defaults to the path, or `prebuilds` for the root).
 */
export function PrebuildsController(path = '', tag?: string): ClassDecorator {
  return applyDecorators(
    Controller(path),
    UseFilters(PrebuildsExceptionFilter),
    UsePipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true })),
    ApiTags(tag ?? (path.split('/')[0] || 'prebuilds')),
  );
}
