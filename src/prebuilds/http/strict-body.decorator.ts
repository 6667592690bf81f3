import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { ClassConstructor } from 'class-transformer';
import { validateShape } from '../validation/validate-shape.js';

/**
 * `@Body()` validated strictly (unknown fields → 400 naming them) against `type`, whatever pipes the host sets
 * globally. A custom parameter decorator, on purpose: Nest's ValidationPipe skips custom decorators, so a host's
 * global `ValidationPipe({ whitelist: true })` cannot strip the unknown fields before we see them. An absent body
 * reads as `{}`.
 */
export const StrictBody = createParamDecorator(
  (type: ClassConstructor<object>, context: ExecutionContext) => {
    const body: unknown = context.switchToHttp().getRequest<{ body?: unknown }>().body ?? {};
    return validateShape(type, body, '');
  },
);
