import { crc32 } from 'node:zlib';
import { generateApiToken, isWellFormedApiToken } from './token-format';

describe('API token format', () => {
  it('is the prefix, 30 base62 characters and a 6-character checksum', () => {
    const token = generateApiToken('idg_');
    expect(token).toMatch(/^idg_[0-9A-Za-z]{36}$/);
    expect(isWellFormedApiToken(token, 'idg_')).toBe(true);
  });

  it('draws from the CSPRNG: no two alike', () => {
    const tokens = new Set(Array.from({ length: 1000 }, () => generateApiToken('idg_')));
    expect(tokens.size).toBe(1000);
  });

  it('carries a CRC32 of what precedes it', () => {
    const token = generateApiToken('acme_');
    const digits = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    const value = [...token.slice(-6)].reduce((sum, char) => sum * 62 + digits.indexOf(char), 0);
    expect(value).toBe(crc32(token.slice(0, -6)));
  });

  it('refuses a wrong prefix, length, alphabet or checksum', () => {
    const token = generateApiToken('idg_');
    const flipped = token.slice(0, 10) + (token[10] === 'a' ? 'b' : 'a') + token.slice(11);
    for (const bad of [token.replace('idg_', 'ghp_'), token.slice(0, -1), `${token}x`, `${token.slice(0, -1)}-`, flipped, 'idg_']) {
      expect(isWellFormedApiToken(bad, 'idg_')).toBe(false);
    }
  });
});
