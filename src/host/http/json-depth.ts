/** How deep a JSON body may nest (objects and arrays); the deepest DTO of the API needs 6. */
export const MAX_JSON_DEPTH = 32;

/** The body-parser error type of a too deeply nested body (a 400, rendered by HostErrorFilter). */
export const TOO_DEEP_TYPE = 'entity.too.deep';

/**
 * Whether raw JSON nests objects and arrays deeper than `max`, scanned byte by byte before parsing (brackets inside
 * strings do not count), so that nothing downstream (the validation pipe, class-transformer) ever recurses that
 * deep. Malformed input is left to the parser.
 */
export function jsonDepthExceeds(raw: Buffer, max: number = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < raw.length; i++) {
    const byte = raw[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (byte === 0x5c /* \ */) escaped = true;
      else if (byte === 0x22 /* " */) inString = false;
      continue;
    }
    if (byte === 0x22) inString = true;
    else if (byte === 0x7b /* { */ || byte === 0x5b /* [ */) {
      if (++depth > max) return true;
    } else if (byte === 0x7d /* } */ || byte === 0x5d /* ] */) depth--;
  }
  return false;
}

/** body-parser's `verify` hook: throws a 400 (type TOO_DEEP_TYPE) for a body deeper than MAX_JSON_DEPTH. */
export function verifyJsonDepth(_request: unknown, _response: unknown, raw: Buffer): void {
  if (jsonDepthExceeds(raw)) {
    throw Object.assign(new Error(`body: JSON nested deeper than ${MAX_JSON_DEPTH} levels`), {
      status: 400,
      type: TOO_DEEP_TYPE,
    });
  }
}
