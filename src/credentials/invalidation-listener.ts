import { randomUUID } from 'node:crypto';
import { Client, type ClientConfig, type Notification } from 'pg';
import type { Logger } from '../logger';
import type { CredentialCache } from './credential-cache';

export const INVALIDATION_CHANNEL = 'idgraph_credentials';

/** How the listener's connection shows in `pg_stat_activity`. */
export const LISTENER_APPLICATION_NAME = 'idgraph-credential-listener';

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5000;
/** A connection can die without a word (a network gone silent): one that does not answer this often is given up. */
const HEARTBEAT_MS = 5000;
const ANSWER_WITHIN_MS = 2000;
/** How long a write waits to hear its own announcements before it forgets every entry instead. */
const BARRIER_MS = 1000;

/**
 * Hears, on a connection of its own, what the database announces on
 * `idgraph_credentials`, and drops what it names from the cache. The cache
 * serves only while this connection is subscribed: when it breaks (PostgreSQL
 * restarted, the connection killed, no answer to the heartbeat), the cache
 * is cleared and bypassed until the listener has subscribed again, which it
 * does by itself.
 */
export class InvalidationListener {
  private client: Client | null = null;
  private stopped = false;
  private retryMs = RETRY_MIN_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private readonly instance = randomUUID();
  private sequence = 0;
  private readonly awaited = new Map<string, () => void>();
  private lostSince: number | null = null;
  /** One statement at a time on the connection (pg will refuse overlapping ones). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly connection: ClientConfig,
    private readonly cache: CredentialCache,
    private readonly log: Logger,
  ) {}

  /** Subscribes, or keeps trying in the background: a server starts even while this fails, with the cache bypassed. */
  async start(): Promise<void> {
    await this.connect();
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), HEARTBEAT_MS);
    this.heartbeatTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.heartbeatTimer);
    const client = this.client;
    this.drop();
    await client?.end().catch(() => undefined);
  }

  /** The latest barrier still waiting to be heard: barriers are heard in the order they were sent. */
  private latestBarrier: Promise<void> | null = null;

  /** Null when this process has heard everything it committed; else what to wait for. */
  unheard(): Promise<void> | null {
    return this.latestBarrier;
  }

  /**
   * Called after each commit of this process, without waiting for it: the
   * cache's next lookup does (see `unheard`), so the instance that made a
   * change sees it on its next request while the writer is not slowed.
   */
  barrier(): void {
    const barrier = this.heardUpToNow();
    this.latestBarrier = barrier;
    void barrier.finally(() => {
      if (this.latestBarrier === barrier) this.latestBarrier = null;
    });
  }

  /**
   * Resolves once this instance has heard everything committed before the
   * call: PostgreSQL delivers announcements in commit order, so hearing a
   * marker sent now means every earlier one was heard.
   */
  private async heardUpToNow(): Promise<void> {
    const client = this.client;
    if (!client) return;
    const marker = `sync:${this.instance}:${(this.sequence += 1)}`;
    let timer: NodeJS.Timeout | undefined;
    const heard = new Promise<boolean>((resolve) => {
      this.awaited.set(marker, () => resolve(true));
      timer = setTimeout(() => resolve(false), BARRIER_MS);
    });
    try {
      await this.serially(() => client.query('SELECT pg_notify($1, $2)', [INVALIDATION_CHANNEL, marker]));
      if (!(await heard)) this.cache.clear();
    } catch {
      this.cache.clear();
    } finally {
      clearTimeout(timer);
      this.awaited.delete(marker);
    }
  }

  private serially<T>(statement: () => Promise<T>): Promise<T> {
    const result = this.queue.then(statement);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new Client({ ...this.connection, application_name: LISTENER_APPLICATION_NAME, keepAlive: true, query_timeout: ANSWER_WITHIN_MS });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client));
    client.on('notification', (message) => this.heard(message));
    try {
      await client.connect();
      await client.query(`LISTEN ${INVALIDATION_CHANNEL}`);
    } catch (error) {
      this.lost(client, error);
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.retryMs = RETRY_MIN_MS;
    this.cache.setListening(true);
    if (this.lostSince !== null) {
      this.log.info({ downMs: Date.now() - this.lostSince }, 'credential cache listening again');
      this.lostSince = null;
    }
  }

  private heard(message: Notification): void {
    if (message.channel !== INVALIDATION_CHANNEL) return;
    const payload = message.payload ?? '';
    if (payload.startsWith('sync:')) {
      this.awaited.get(payload)?.();
      return;
    }
    if (payload === '*') {
      this.cache.clear();
      return;
    }
    const separator = payload.indexOf(':');
    if (separator < 1) {
      // Not a message this version knows: forgetting everything is always safe.
      this.cache.clear();
      return;
    }
    const kind = payload.slice(0, separator);
    this.cache.invalidate(payload.slice(separator + 1).split(',').map((key) => `${kind}:${key}`));
  }

  private async heartbeat(): Promise<void> {
    const client = this.client;
    if (!client) return;
    try {
      await this.serially(() => client.query('SELECT 1'));
    } catch (error) {
      this.lost(client, error);
    }
  }

  /** The cache stops serving first; the reconnection follows. */
  private lost(client: Client, error?: unknown): void {
    if (this.client !== null && this.client !== client) return;
    const wasSubscribed = this.client === client;
    this.drop();
    client.removeAllListeners('notification');
    client.end().catch(() => undefined);
    if (this.stopped) return;
    if (wasSubscribed) {
      this.lostSince = Date.now();
      this.log.warn({ err: error instanceof Error ? error.message : undefined }, 'credential cache bypassed: its listener connection was lost');
    } else if (this.lostSince === null) {
      this.lostSince = Date.now();
      this.log.warn({ err: error instanceof Error ? error.message : undefined }, 'credential cache bypassed: its listener could not subscribe');
    }
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect();
    }, this.retryMs);
    this.retryTimer.unref();
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
  }

  private drop(): void {
    this.client = null;
    this.cache.setListening(false);
    for (const resolve of this.awaited.values()) resolve();
    this.awaited.clear();
  }
}
