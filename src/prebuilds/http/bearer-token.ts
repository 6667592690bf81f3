/**
 * The token of an `Authorization: Bearer <token>` header, or null when the header is missing or malformed.
 * The scheme is case-insensitive (RFC 9110 §11.1); the token must be token68 and of a sane length, so that a
 * hostile header is rejected before anyone hashes or looks it up.
 */
export function parseBearerToken(header: string | string[] | undefined): string | null {
  if (typeof header !== 'string') return null;
  const match = /^bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  if (!match) return null;
  const token = match[1];
  return token.length <= MAX_TOKEN_LENGTH ? token : null;
}

const MAX_TOKEN_LENGTH = 512;
