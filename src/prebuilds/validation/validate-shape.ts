import { plainToInstance, type ClassConstructor } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { PrebuildsErrorCode, PrebuildsException } from '../errors/prebuilds.exception.js';

function messages(errors: ValidationError[], parent: string): string[] {
  return errors.flatMap((error) => {
    const path = parent === '' ? error.property : `${parent}.${error.property}`;
    const own = Object.values(error.constraints ?? {}).map((message) =>
      // class-validator names only the property; prefix its parents as Nest's ValidationPipe does.
      parent === '' ? message : `${parent}.${message}`,
    );
    return [...own, ...messages(error.children ?? [], path)];
  });
}

/**
 * Checks a plain value against a DTO class's decorators (types, ranges, unknown fields refused) and returns the
 * instance. The catalog runs it on every input, so a host calling the service directly gets the same 400s, naming
 * the field, as the HTTP routes, before anything is written.
 */
export function validateShape<T extends object>(type: ClassConstructor<T>, value: unknown, path: string): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new PrebuildsException(PrebuildsErrorCode.ValidationFailed, `${path || 'body'} must be an object`);
  }
  const instance = plainToInstance(type, value);
  const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: true });
  if (errors.length > 0) {
    throw new PrebuildsException(PrebuildsErrorCode.ValidationFailed, messages(errors, path).join('; '));
  }
  return instance;
}
