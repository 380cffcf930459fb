import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const TOKEN_PREFIX = 'dm_';
export const ENROLMENT_PREFIX = 'dme_';
/** 32 random bytes in base64url. */
const BODY = /^[A-Za-z0-9_-]{43}$/;

export function newSecret(prefix: string): string {
  return prefix + randomBytes(32).toString('base64url');
}

/** SHA-256 hex: what the tables hold instead of the secret. A fast hash suffices for 256 random bits. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Whether `secret` has the shape of one we issue with `prefix` (cheap refusal before any query). */
export function looksLike(secret: unknown, prefix: string): secret is string {
  return typeof secret === 'string' && secret.startsWith(prefix) && BODY.test(secret.slice(prefix.length));
}

export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}
