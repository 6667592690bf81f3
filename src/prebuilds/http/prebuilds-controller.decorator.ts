import {
  type ArgumentMetadata,
  applyDecorators,
  Controller,
  UseFilters,
  UsePipes,
  ValidationPipe,
} from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { assertPlainInput } from '../validation/validate-shape.js';
import { PrebuildsExceptionFilter } from './prebuilds-exception.filter.js';

/**
 * Nest's ValidationPipe, after assertPlainInput on bodies and queries: a NUL, a reserved key (`__proto__`, which
 * class-transformer would drop silently) or JSON nested too deep is a 400 naming the field before class-transformer
 * recurses over it.
 */
export class PrebuildsValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body') assertPlainInput(value, '');
    else if (metadata.type === 'query') assertPlainInput(value, 'query');
    return super.transform(value, metadata);
  }
}

/**
 * `@Controller(path)` for our routes, with what every one of them needs: our error shape (the filter is scoped here,
 * not global), bodies and queries validated with unknown fields rejected (whatever pipes the host sets globally),
 * and an OpenAPI tag (defaults to the path, or `prebuilds` for the root).
 */
export function PrebuildsController(path = '', tag?: string): ClassDecorator {
  return applyDecorators(
    Controller(path),
    UseFilters(PrebuildsExceptionFilter),
    UsePipes(new PrebuildsValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true })),
    ApiTags(tag ?? (path.split('/')[0] || 'prebuilds')),
  );
}
