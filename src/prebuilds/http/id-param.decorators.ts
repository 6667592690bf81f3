import { Param, ParseUUIDPipe } from '@nestjs/common';
import { PrebuildsErrorCode, PrebuildsException } from '../errors/prebuilds.exception.js';
import { HOST_ID_MAX_LENGTH, isHostId } from '../validation/host-id.js';

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

/** `@Param(name)` that must be a host id (template and organization ids are the host's text, not always UUIDs). */
export function HostIdParam(name = 'id'): ParameterDecorator {
  return Param(name, {
    transform: (value: unknown) => {
      if (!isHostId(value)) {
        throw new PrebuildsException(
          PrebuildsErrorCode.ValidationFailed,
          `${name} must be a non-empty string of at most ${HOST_ID_MAX_LENGTH} characters without NUL`,
        );
      }
      return value;
    },
  });
}
