import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Tokens are random, shown once, and stored only as their SHA-256 digest (hex). */
export function generateApiToken(): string {
  return `pbt_${randomBytes(24).toString('base64url')}`;
}

export function hashApiToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Constant-time comparison of two hex digests of equal length. */
export function digestsEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && timingSafeEqual(left, right);
}
