import { AuthenticationError } from '../errors';
import { parseAuthorizationHeader } from './authorization-header';

const KEY = '0123456789abcdef0123456789abcdef01234567';

describe('parseAuthorizationHeader', () => {
  it('is null without a header', () => {
    expect(parseAuthorizationHeader(undefined, 'idg_')).toBeNull();
  });

  it('reads the Token scheme in any case', () => {
    for (const scheme of ['Token', 'token', 'TOKEN', 'tOkEn']) {
      expect(parseAuthorizationHeader(`${scheme} ${KEY}`, 'idg_')).toEqual({ scheme: 'token', key: KEY });
    }
  });

  it('takes one or more spaces between the scheme and the credential, and blanks around the value', () => {
    expect(parseAuthorizationHeader('Bearer   idg_abc', 'idg_')).toEqual({ scheme: 'bearer', shape: 'prefixed', token: 'idg_abc' });
    expect(parseAuthorizationHeader(' \tBearer idg_abc\t ', 'idg_')).toEqual({ scheme: 'bearer', shape: 'prefixed', token: 'idg_abc' });
  });

  it('names the tab as what is wrong', () => {
    expect(() => parseAuthorizationHeader('Bearer\tidg_abc', 'idg_')).toThrow('invalid authorization header: the scheme and the credential are separated by spaces only');
  });

  it('routes a Bearer token by its shape', () => {
    expect(parseAuthorizationHeader('Bearer idg_abc', 'idg_')).toEqual({ scheme: 'bearer', shape: 'prefixed', token: 'idg_abc' });
    expect(parseAuthorizationHeader('bearer a.b.c', 'idg_')).toEqual({ scheme: 'bearer', shape: 'jwt', token: 'a.b.c' });
    expect(parseAuthorizationHeader('Bearer acme_abc', 'acme_')).toEqual({ scheme: 'bearer', shape: 'prefixed', token: 'acme_abc' });
  });

  it.each([
    ['Token', 'invalid_request'],
    ['Token a b', 'invalid_request'],
    ['Basic abc', 'invalid_request'],
    [`Bearer ${KEY}`, 'invalid_request'],
    ['Token idg_abc', 'invalid_request'],
    ['Token a.b.c', 'invalid_request'],
    [`Token ${KEY.toUpperCase()}`, 'invalid_token'],
    ['Bearer a.b', 'invalid_token'],
    ['Bearer\tidg_abc', 'invalid_request'],
    [`Token\t${KEY}`, 'invalid_request'],
    ['Bearer \tidg_abc', 'invalid_request'],
    ['Bearer\u00a0idg_abc', 'invalid_request'],
    ['Bearer\u2003idg_abc', 'invalid_request'],
    ['Bearer\nidg_abc', 'invalid_request'],
    ['Bearer idg_abc\tidg_def', 'invalid_request'],
  ])('refuses %p as %s', (header, failure) => {
    let caught: unknown;
    try {
      parseAuthorizationHeader(header, 'idg_');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(AuthenticationError);
    expect((caught as AuthenticationError).failure).toBe(failure);
  });
});
