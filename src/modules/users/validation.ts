import { badInput } from '../../errors';

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 256;

/** Deliberately plain: one @, something on each side, a dot in the domain, no spaces or control characters. */
const EMAIL = /^[^\s@\p{Cc}]+@[^\s@.\p{Cc}]+(?:\.[^\s@.\p{Cc}]+)+$/u;

/** Control characters (NUL among them, which PostgreSQL refuses to store) have no place in a name. */
const CONTROL = /\p{Cc}/u;

/** Free text (a description): line breaks and tabs are fine, NUL and other controls are not. */
const CONTROL_BUT_WHITESPACE = /[^\P{Cc}\t\n\r]/u;

export function checkText(field: string, value: string): string {
  if (CONTROL_BUT_WHITESPACE.test(value)) throw badInput(field, 'must not contain control characters');
  return value;
}

/** Whether a string could be an email at all, for lookups that must not tell why they failed. */
export function couldBeEmail(value: string): boolean {
  return value.length <= 320 && EMAIL.test(value);
}

export function normalizeEmail(raw: string): string {
  const email = raw.trim().toLowerCase();
  if (!couldBeEmail(email)) throw badInput('email', 'must be a valid email address');
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
  if (CONTROL.test(name)) throw badInput(field, 'must not contain control characters');
  if (name.length > maxLength) throw badInput(field, `must be at most ${maxLength} characters`);
  return name;
}
