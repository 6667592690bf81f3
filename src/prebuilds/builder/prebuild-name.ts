import { randomBytes } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/** `prebuild-` and 15 random base32 characters: unique enough that a batch never collides on the owner/name index. */
export function generatePrebuildName(): string {
  const bytes = randomBytes(15);
  let suffix = '';
  for (const byte of bytes) suffix += ALPHABET[byte & 31];
  return `prebuild-${suffix}`;
}
