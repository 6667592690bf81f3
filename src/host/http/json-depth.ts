/** How deep a JSON body may nest (objects and arrays); the deepest DTO of the API needs 6. */
export const MAX_JSON_DEPTH = 32;

/** The error type of a too deeply nested body (a 400, rendered by HostErrorFilter). */
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

/** An error shaped as body-parser's (`status`, `type`), which the error mapping already renders. */
function bodyError(status: number, type: string, message: string): Error {
  return Object.assign(new Error(message), { status, type });
}

/**
 * The host's JSON body parser (setupHostApp registers it for application/json): the body as UTF-8 JSON, with the
 * rules the API has always had. Too deep a body is a 400 before parsing; the top level must be an object or an
 * array; an empty body is `{}`; a charset other than UTF-8 is a 415. Malformed JSON is a 400 whose message does not
 * quote the body back.
 */
export function parseJsonBody(raw: Buffer, contentType: string | undefined): unknown {
  const charset = /;\s*charset=("?)([^";\s]+)\1/i.exec(contentType ?? '')?.[2]?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw bodyError(415, 'charset.unsupported', `unsupported charset "${charset}"`);
  }
  if (raw.length === 0) return {};
  if (jsonDepthExceeds(raw)) {
    throw bodyError(400, TOO_DEEP_TYPE, `body: JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  }
  const text = raw.toString('utf8');
  const first = /\S/.exec(text)?.[0];
  if (first !== '{' && first !== '[') throw bodyError(400, 'entity.parse.failed', 'body: malformed JSON');
  try {
    return JSON.parse(text);
  } catch {
    throw bodyError(400, 'entity.parse.failed', 'body: malformed JSON');
  }
}
