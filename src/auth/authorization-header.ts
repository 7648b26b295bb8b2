import { AuthenticationError } from '../errors';
import { USER_KEY_PATTERN } from './secrets';

/** What the Authorization header carries, told apart by scheme and, for Bearer, by shape. */
export type PresentedCredential =
  | { scheme: 'token'; key: string }
  | { scheme: 'bearer'; shape: 'jwt' | 'prefixed'; token: string };

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

function looksLikeBearerToken(value: string, tokenPrefix: string): boolean {
  return value.startsWith(tokenPrefix) || JWT_SHAPE.test(value);
}

/** The blanks HTTP allows around a field value (OWS: space and horizontal tab). */
const SURROUNDING_BLANKS = /^[ \t]+|[ \t]+$/g;

/**
 * Parses `Authorization: Token <key>` and `Authorization: Bearer <token>`
 * (schemes case-insensitive). RFC 9110 §11.4 separates the scheme from the
 * credential with spaces (`1*SP`) and nothing else: a tab or any other blank
 * inside the value is a malformed header. Returns null when there is no
 * header; throws an AuthenticationError that says what is wrong otherwise.
 */
export function parseAuthorizationHeader(header: string | string[] | undefined, tokenPrefix: string): PresentedCredential | null {
  if (header === undefined) return null;
  if (Array.isArray(header)) {
    throw new AuthenticationError('invalid_request', 'invalid authorization header: it is sent more than once', true);
  }
  const field = header.replace(SURROUNDING_BLANKS, '');
  if (/[^\S ]/.test(field)) {
    throw new AuthenticationError('invalid_request', 'invalid authorization header: the scheme and the credential are separated by spaces only', true);
  }
  const parts = field.split(/ +/).filter(Boolean);
  if (parts.length === 0) {
    throw new AuthenticationError('invalid_request', 'invalid authorization header: it is empty', true);
  }
  if (parts.length === 1) {
    throw new AuthenticationError('invalid_request', 'invalid authorization header: no credentials provided after the scheme', true);
  }
  if (parts.length > 2) {
    throw new AuthenticationError('invalid_request', 'invalid authorization header: the credential must not contain spaces', true);
  }
  const [scheme, value] = parts as [string, string];
  switch (scheme.toLowerCase()) {
    case 'token':
      if (USER_KEY_PATTERN.test(value)) return { scheme: 'token', key: value };
      if (looksLikeBearerToken(value, tokenPrefix)) {
        throw new AuthenticationError('invalid_request', 'invalid token format: API and access tokens are sent with the Bearer scheme', true);
      }
      throw new AuthenticationError('invalid_token', 'invalid token format: a user key is 40 lowercase hexadecimal characters', true);
    case 'bearer':
      if (value.startsWith(tokenPrefix)) return { scheme: 'bearer', shape: 'prefixed', token: value };
      if (JWT_SHAPE.test(value)) return { scheme: 'bearer', shape: 'jwt', token: value };
      if (USER_KEY_PATTERN.test(value)) {
        throw new AuthenticationError('invalid_request', 'invalid token format: a user key is sent with the Token scheme', true);
      }
      throw new AuthenticationError('invalid_token', 'invalid token format', true);
    default:
      throw new AuthenticationError('invalid_request', 'invalid authorization header: unsupported scheme (use Token or Bearer)', true);
  }
}

/**
 * Every Authorization header of a request, from its raw headers: Node keeps
 * only the first of several, but a proxy in front may have read another, so
 * two credentials in one request are refused rather than one chosen.
 */
export function authorizationHeaderOf(rawHeaders: string[]): string | string[] | undefined {
  const values: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() === 'authorization') values.push(rawHeaders[i + 1]!);
  }
  if (values.length === 0) return undefined;
  return values.length === 1 ? values[0] : values;
}
