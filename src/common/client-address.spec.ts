import { normaliseAddress, rateLimitNetwork } from './client-address';

describe('normaliseAddress', () => {
  it.each([
    ['192.0.2.1', '192.0.2.1'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['::FFFF:C000:0201', '192.0.2.1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0001:0000:0000:0001', '2001:db8::1:0:0:1'],
    ['0:0:1:0:0:1:2:3', '::1:0:0:1:2:3'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['::', '::'],
    ['::1', '::1'],
    ['ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
  ])('%s → %s', (input, expected) => {
    expect(normaliseAddress(input)).toBe(expected);
  });

  it.each([
    ['empty', ''],
    ['undefined', undefined],
    ['a name', 'localhost'],
    ['an IPv4 address with a port', '192.0.2.1:80'],
    ['an IPv6 address in brackets', '[::1]'],
    ['an IPv4 address with a zone id', '192.0.2.1%eth0'],
    ['octal IPv4', '0300.0.2.1'],
    ['short IPv4', '127.1'],
    ['a list', '192.0.2.1, 192.0.2.2'],
    ['only a zone id', '%eth0'],
    ['1,000 digits', '1'.repeat(1000)],
  ])('%s is not an address', (_label, input) => {
    expect(normaliseAddress(input)).toBeNull();
  });

  it('drops a zone id of any length', () => {
    expect(normaliseAddress(`fe80::1%${'a'.repeat(300)}`)).toBe('fe80::1');
  });

  it('is never longer than the columns that keep it (45 characters)', () => {
    expect(normaliseAddress('ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255%eth0')!.length).toBeLessThanOrEqual(45);
  });
});

describe('rateLimitNetwork', () => {
  it('keeps an IPv4 address whole', () => {
    expect(rateLimitNetwork('192.0.2.1', 64)).toBe('192.0.2.1');
  });

  it('counts IPv6 addresses by their prefix', () => {
    expect(rateLimitNetwork('2001:db8:1:2:3:4:5:6', 64)).toBe('2001:db8:1:2::/64');
    expect(rateLimitNetwork('2001:db8:1:2:ffff::1', 64)).toBe('2001:db8:1:2::/64');
    expect(rateLimitNetwork('2001:db8:1:2:3:4:5:6', 56)).toBe('2001:db8:1::/56');
    expect(rateLimitNetwork('2001:db8:1:2ff:3:4:5:6', 56)).toBe('2001:db8:1:200::/56');
    expect(rateLimitNetwork('2001:db8:1:2:3:4:5:6', 128)).toBe('2001:db8:1:2:3:4:5:6/128');
    expect(rateLimitNetwork('2001:db8:1:2:3:4:5:6', 0)).toBe('::/0');
  });
});
