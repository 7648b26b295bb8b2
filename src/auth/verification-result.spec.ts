import { AuthenticationError, rateLimited } from '../errors';
import { presentedCredential, refusalOf } from './verification-result';

describe('presentedCredential', () => {
  const key = 'a'.repeat(40);
  it.each([
    [{}, null],
    [{ sessionCookie: 'anything' }, 'session'],
    [{ authorization: `Token ${key}`, sessionCookie: 'ignored' }, 'user_key'],
    [{ authorization: 'token short' }, 'user_key'],
    [{ authorization: 'Bearer idg_whatever' }, 'api_token'],
    [{ authorization: 'Bearer idg_a idg_b' }, 'api_token'],
    [{ authorization: 'Bearer eyJ.eyJ.sig' }, 'access_token'],
    [{ authorization: 'Bearer ???' }, 'unrecognized'],
    [{ authorization: 'Basic dXNlcjpwYXNz' }, 'unrecognized'],
    [{ authorization: '' }, 'unrecognized'],
  ])('%j is %s', (request, expected) => {
    expect(presentedCredential(request, 'idg_')).toBe(expected);
  });
});

describe('refusalOf', () => {
  it('reads the refusal an AuthenticationError carries, defaulting by its shape', () => {
    expect(refusalOf(new AuthenticationError('invalid_token', 'x', true))).toBe('malformed');
    expect(refusalOf(new AuthenticationError('invalid_token', 'x'))).toBe('unknown');
    expect(refusalOf(new AuthenticationError('invalid_token', 'x', false, 'expired'))).toBe('expired');
  });

  it('counts a rate-limit refusal, and no verdict for any other error', () => {
    expect(refusalOf(rateLimited(3))).toBe('rate_limited');
    expect(refusalOf(new Error('connection refused'))).toBeNull();
  });
});
