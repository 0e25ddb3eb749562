/**
 * Secrets handed to clients (API keys, session tokens): random, shown once,
 * and kept only as their SHA-256, so a copy of the database opens nothing.
 * A hash of 256 random bits needs no salt or slow hash to resist guessing.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const randomToken = (bytes = 32): string => randomBytes(bytes).toString('base64url');

export const sha256Hex = (value: string): string => createHash('sha256').update(value).digest('hex');

/** Equal strings, compared in time that does not depend on where they differ. */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
