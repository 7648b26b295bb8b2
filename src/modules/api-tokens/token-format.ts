import { randomInt } from 'node:crypto';
import { crc32 } from 'node:zlib';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** 30 base62 characters: 178 bits from the CSPRNG. */
const RANDOM_LENGTH = 30;
/** 62^6 > 2^32: any CRC32 fits in six base62 characters. */
const CHECKSUM_LENGTH = 6;
const BODY = new RegExp(`^[0-9A-Za-z]{${RANDOM_LENGTH + CHECKSUM_LENGTH}}$`);

/** How many characters of a token are kept in clear, to recognise it in a list or a scanner's report. */
export const VISIBLE_PREFIX_LENGTH = 12;

function base62(value: number, width: number): string {
  let out = '';
  for (let rest = value; out.length < width; rest = Math.floor(rest / 62)) out = BASE62[rest % 62] + out;
  return out;
}

function checksum(text: string): string {
  return base62(crc32(text), CHECKSUM_LENGTH);
}

/** `<prefix><30 random base62><6 base62 CRC32 of what precedes>`, GitHub's shape. */
export function generateApiToken(prefix: string): string {
  let random = '';
  for (let i = 0; i < RANDOM_LENGTH; i += 1) random += BASE62[randomInt(62)];
  return `${prefix}${random}${checksum(prefix + random)}`;
}

/**
 * Prefix, length, alphabet and checksum, all checked without the database:
 * a mistyped or made-up token costs no query.
 */
export function isWellFormedApiToken(token: string, prefix: string): boolean {
  if (!token.startsWith(prefix)) return false;
  const body = token.slice(prefix.length);
  if (!BODY.test(body)) return false;
  return checksum(prefix + body.slice(0, RANDOM_LENGTH)) === body.slice(RANDOM_LENGTH);
}
