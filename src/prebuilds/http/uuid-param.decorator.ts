import { Param, ParseUUIDPipe } from '@nestjs/common';
import { PrebuildsErrorCode, PrebuildsException } from '../errors/prebuilds.exception.js';

/**
 * `@Param(name)` that must be a UUID. Nest's ParseUUIDPipe says "Validation failed (uuid is expected)" without
 * naming the parameter; our 400s name the field.
 */
export function UuidParam(name = 'id'): ParameterDecorator {
  return Param(
    name,
    new ParseUUIDPipe({
      exceptionFactory: () =>
        new PrebuildsException(PrebuildsErrorCode.ValidationFailed, `${name} must be a UUID`),
    }),
  );
}
