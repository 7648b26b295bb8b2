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
