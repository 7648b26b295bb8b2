import { badInput } from '../../errors';

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 256;

/** Deliberately plain: one @, something on each side, a dot in the domain, no spaces. */
const EMAIL = /^[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)+$/;

export function normalizeEmail(raw: string): string {
  const email = raw.trim().toLowerCase();
  if (email.length > 320 || !EMAIL.test(email)) throw badInput('email', 'must be a valid email address');
  return email;
}

export function checkPassword(password: string): string {
  if (password.length < PASSWORD_MIN_LENGTH) {
    throw badInput('password', `must be at least ${PASSWORD_MIN_LENGTH} characters`);
  }
  if (password.length > PASSWORD_MAX_LENGTH) {
    throw badInput('password', `must be at most ${PASSWORD_MAX_LENGTH} characters`);
  }
  return password;
}

export function checkName(field: string, raw: string, maxLength: number): string {
  const name = raw.trim();
  if (name.length === 0) throw badInput(field, 'must not be empty');
  if (name.length > maxLength) throw badInput(field, `must be at most ${maxLength} characters`);
  return name;
}
