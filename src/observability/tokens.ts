/**
 * The bearer tokens of the operator endpoints (`/metrics`: METRICS_TOKEN,
 * `/codec/*`: CODEC_TOKEN), compared in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';

/** True when `presented` equals `expected` (hashing first makes the comparison length-independent). */
export function tokenMatches(presented: string | undefined, expected: string): boolean {
  if (!presented || !expected) return false;
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The token of an `Authorization: Bearer <token>` header, if any. */
export function bearerToken(req: Request): string | undefined {
  const header = req.get('authorization');
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}
