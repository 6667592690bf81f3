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

/** Objects and arrays nested deeper than this are refused (JSON a real client sends is a handful of levels). */
export const MAX_INPUT_DEPTH = 32;

/** Keys no input object may have: they would set or shadow a prototype, and class-transformer drops them silently. */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

function fieldOf(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return parent === '' ? key : `${parent}.${key}`;
}

function invalid(message: string): never {
  throw new PrebuildsException(PrebuildsErrorCode.ValidationFailed, message);
}

/**
 * The checks every module input gets before anything recurses over it (class-transformer, class-validator, our own
 * planning), without recursion itself so that no input can overflow the stack: nesting deeper than MAX_INPUT_DEPTH,
 * a NUL (U+0000, which PostgreSQL text cannot store) in any string or key, and a reserved key (`__proto__`,
 * `constructor`, `prototype`) in any object are a 400 naming the field. Only own enumerable properties are read.
 */
export function assertPlainInput(value: unknown, path: string): void {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path, depth: 0 }];
  while (stack.length > 0) {
    const item = stack.pop() as (typeof stack)[number];
    const here = item.path || 'body';
    if (typeof item.value === 'string') {
      if (item.value.includes('\u0000')) invalid(`${here} must not contain a NUL character`);
      continue;
    }
    if (typeof item.value !== 'object' || item.value === null) continue;
    if (item.depth >= MAX_INPUT_DEPTH) invalid(`${here} is nested deeper than ${MAX_INPUT_DEPTH} levels`);
    if (Array.isArray(item.value)) {
      item.value.forEach((entry, index) =>
        stack.push({ value: entry, path: fieldOf(item.path, index), depth: item.depth + 1 }),
      );
      continue;
    }
    for (const key of Object.keys(item.value)) {
      const field = fieldOf(item.path, key);
      if (key.includes('\u0000')) invalid(`${item.path || 'body'} has a key with a NUL character`);
      if (RESERVED_KEYS.has(key)) invalid(`${field}: '${key}' is a reserved key and is not allowed`);
      stack.push({ value: (item.value as Record<string, unknown>)[key], path: field, depth: item.depth + 1 });
    }
  }
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
  assertPlainInput(value, path);
  const instance = plainToInstance(type, value);
  const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: true });
  if (errors.length > 0) {
    throw new PrebuildsException(PrebuildsErrorCode.ValidationFailed, messages(errors, path).join('; '));
  }
  return instance;
}
