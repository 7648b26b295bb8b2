import { createHash, randomBytes } from 'node:crypto';

export function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** The DRF-style user key: 40 lowercase hex characters, 160 bits from the CSPRNG. */
export function newUserKey(): string {
  return randomBytes(20).toString('hex');
}

export const USER_KEY_PATTERN = /^[0-9a-f]{40}$/;

/** A session cookie value: 256 bits, URL-safe. */
export function newSessionSecret(): string {
  return randomBytes(32).toString('base64url');
}

export const SESSION_SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;
