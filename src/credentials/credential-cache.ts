import { LRUCache } from 'lru-cache';

/**
 * The invalidation names an entry answers to, as the database announces them
 * (migrations/1795999000000-CredentialInvalidation.ts): `t:<api token id>`,
 * `u:<user id>` (the user, or one of their memberships), `s:<service user id>`,
 * `o:<organization id>`, `p:<jti>`, `x:<session id>`.
 */
export type DependsOn = readonly string[];

type Entry = { value: unknown; dependsOn: DependsOn };

/**
 * What verification found for a credential, by its digest (or a PAT's jti),
 * never by the secret: bounded (LRU), each entry kept no longer than the TTL
 * cap nor than the credential lives, and dropped when the database announces
 * a change of anything it depends on.
 *
 * It serves nothing while it is `bypassed`: turned off (max 0), or while the
 * listener that hears those announcements is not subscribed, since then a
 * change could go unheard.
 */
export class CredentialCache {
  private readonly entries: LRUCache<string, Entry> | null;
  /** Most names belong to one entry: a lone key is kept as it is, a Set only once a second shares the name. */
  private readonly keysByName = new Map<string, string | Set<string>>();
  /** Moves on with every invalidation: a lookup that overlapped one may have read what it invalidated. */
  private generation = 0;
  private listening = false;
  /** What this process committed and has not heard announced yet, if anything: read after it. */
  private unheard: () => Promise<unknown> | null = () => null;
  /** Told of every lookup while the cache serves: found in it (a hit) or read from the database. */
  onLookup: (hit: boolean) => void = () => undefined;

  constructor(options: { max: number; ttlSeconds: number }) {
    this.entries =
      options.max === 0
        ? null
        : new LRUCache<string, Entry>({
            max: options.max,
            ttl: options.ttlSeconds * 1000,
            updateAgeOnGet: false,
            dispose: (entry, key) => this.unindex(key, entry.dependsOn),
          });
  }

  get size(): number {
    return this.entries?.size ?? 0;
  }

  get bypassed(): boolean {
    return this.entries === null || !this.listening;
  }

  /** Announcements are heard (true) or may be missed (false): either way, what is held is forgotten. */
  setListening(listening: boolean): void {
    this.clear();
    this.listening = listening;
  }

  /** Lookups wait for `unheard` when it is not null, so this process's own changes are seen by its next request. */
  awaitOwnChanges(unheard: () => Promise<unknown> | null): void {
    this.unheard = unheard;
  }

  /** Taken before reading the database; `store` keeps what was read only if nothing was invalidated since. */
  mark(): number {
    return this.generation;
  }

  get<T>(key: string): T | undefined {
    if (this.bypassed) return undefined;
    return this.entries!.get(key)?.value as T | undefined;
  }

  /** `lifetimeMs`: how long the credential itself has left, when it ends. */
  store(key: string, value: unknown, dependsOn: DependsOn, mark: number, lifetimeMs?: number): void {
    if (this.bypassed || mark !== this.generation) return;
    if (lifetimeMs !== undefined && lifetimeMs <= 0) return;
    const entries = this.entries!;
    entries.delete(key);
    entries.set(key, { value, dependsOn }, lifetimeMs === undefined ? {} : { ttl: Math.min(lifetimeMs, entries.ttl) });
    for (const name of dependsOn) {
      const keys = this.keysByName.get(name);
      if (keys === undefined || keys === key) this.keysByName.set(name, key);
      else if (typeof keys === 'string') this.keysByName.set(name, new Set([keys, key]));
      else keys.add(key);
    }
  }

  /**
   * The cached value, or what `load` reads (kept when found, with what it
   * depends on and how long the credential has left).
   */
  async through<T>(key: string, load: () => Promise<T | null>, dependsOn: (value: T) => DependsOn, lifetimeMs?: (value: T) => number | undefined): Promise<T | null> {
    const unheard = this.unheard();
    if (unheard) await unheard;
    const cached = this.get<T>(key);
    if (!this.bypassed) this.onLookup(cached !== undefined);
    if (cached !== undefined) return cached;
    const mark = this.mark();
    const value = await load();
    if (value !== null) this.store(key, value, dependsOn(value), mark, lifetimeMs?.(value));
    return value;
  }

  /** Drops every entry that depends on one of `names`. */
  invalidate(names: readonly string[]): void {
    this.generation += 1;
    for (const name of names) {
      const keys = this.keysByName.get(name);
      if (keys === undefined) continue;
      for (const key of typeof keys === 'string' ? [keys] : [...keys]) this.entries?.delete(key);
    }
  }

  clear(): void {
    this.generation += 1;
    this.entries?.clear();
    this.keysByName.clear();
  }

  private unindex(key: string, dependsOn: DependsOn): void {
    for (const name of dependsOn) {
      const keys = this.keysByName.get(name);
      if (keys === key) this.keysByName.delete(name);
      else if (typeof keys === 'object') {
        keys.delete(key);
        if (keys.size === 0) this.keysByName.delete(name);
      }
    }
  }
}
