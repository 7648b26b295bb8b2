import { CredentialCache } from './credential-cache';

function listeningCache(max = 100_000, ttlSeconds = 60): CredentialCache {
  const cache = new CredentialCache({ max, ttlSeconds });
  cache.setListening(true);
  return cache;
}

describe('CredentialCache', () => {
  it('holds at most CREDENTIAL_CACHE_MAX entries under 200,000 distinct credentials, keeping the most recent', () => {
    const cache = listeningCache(100_000);
    for (let i = 0; i < 200_000; i += 1) cache.store(`a:${i}`, { id: i }, [`t:${i}`, 'o:org'], cache.mark());
    expect(cache.size).toBe(100_000);
    expect(cache.get('a:0')).toBeUndefined();
    expect(cache.get('a:199999')).toEqual({ id: 199_999 });
    // What was evicted left nothing behind in the index: invalidating a name drops only live entries.
    cache.invalidate(['o:org']);
    expect(cache.size).toBe(0);
  });

  it('drops every entry that depends on an invalidated name, and only those', () => {
    const cache = listeningCache();
    cache.store('a:1', 'token one', ['t:1', 'u:alice', 'm:org/alice'], cache.mark());
    cache.store('a:2', 'token two', ['t:2', 'u:bob', 'm:org/bob'], cache.mark());
    cache.store('k:alice', 'alice key', ['u:alice'], cache.mark());
    cache.invalidate(['u:alice']);
    expect(cache.get('a:1')).toBeUndefined();
    expect(cache.get('k:alice')).toBeUndefined();
    expect(cache.get('a:2')).toBe('token two');
  });

  it('keeps nothing read before an invalidation that arrived while it was read', () => {
    const cache = listeningCache();
    const mark = cache.mark();
    cache.invalidate(['t:unrelated']);
    cache.store('a:1', 'read before the change', ['t:1'], mark);
    expect(cache.get('a:1')).toBeUndefined();
    cache.store('a:1', 'read after it', ['t:1'], cache.mark());
    expect(cache.get('a:1')).toBe('read after it');
  });

  it('serves and keeps nothing while not listening, and forgets everything when listening stops or starts', () => {
    const cache = new CredentialCache({ max: 10, ttlSeconds: 60 });
    cache.store('a:1', 'unheard', ['t:1'], cache.mark());
    expect(cache.size).toBe(0);
    cache.setListening(true);
    cache.store('a:1', 'heard', ['t:1'], cache.mark());
    expect(cache.get('a:1')).toBe('heard');
    cache.setListening(false);
    expect(cache.bypassed).toBe(true);
    expect(cache.size).toBe(0);
    expect(cache.get('a:1')).toBeUndefined();
  });

  it('is off with a maximum of 0', () => {
    const cache = listeningCache(0);
    cache.store('a:1', 'value', ['t:1'], cache.mark());
    expect(cache.bypassed).toBe(true);
    expect(cache.get('a:1')).toBeUndefined();
  });

  it('keeps no entry for a credential that has already ended, nor past its end', async () => {
    const cache = listeningCache();
    cache.store('a:ended', 'value', ['t:1'], cache.mark(), 0);
    expect(cache.get('a:ended')).toBeUndefined();
    cache.store('a:short', 'value', ['t:2'], cache.mark(), 30);
    expect(cache.get('a:short')).toBe('value');
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(cache.get('a:short')).toBeUndefined();
  });

  it('reads through once, then serves what it read', async () => {
    const cache = listeningCache();
    let reads = 0;
    const load = async () => {
      reads += 1;
      return { id: 'u1' };
    };
    await cache.through('k:1', load, (user) => [`u:${user.id}`]);
    const second = await cache.through('k:1', load, (user) => [`u:${user.id}`]);
    expect(second).toEqual({ id: 'u1' });
    expect(reads).toBe(1);
    cache.invalidate(['u:u1']);
    await cache.through('k:1', load, (user) => [`u:${user.id}`]);
    expect(reads).toBe(2);
  });

  it('does not keep what was not found', async () => {
    const cache = listeningCache();
    await cache.through('a:unknown', async () => null, () => []);
    expect(cache.size).toBe(0);
  });
});
