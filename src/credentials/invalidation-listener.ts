import { randomUUID } from 'node:crypto';
import { Client, type ClientConfig, type Notification } from 'pg';
import type { Logger } from '../logger';
import type { CredentialCache } from './credential-cache';

export const INVALIDATION_CHANNEL = 'idgraph_credentials';

/** How the listener's connection shows in `pg_stat_activity`. */
const LISTENER_APPLICATION_NAME = 'idgraph-credential-listener';

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5000;
/** How often the listener proves it still hears what the application's own connections announce. */
const HEARTBEAT_MS = 1000;
/** How long a marker may take to come back before the listener is taken for deaf. */
const ROUND_TRIP_MS = 1000;

/** Sends an announcement as the application's writes do: through the connection pool. */
export type Announce = (payload: string) => Promise<unknown>;

/**
 * Hears, on a connection of its own, what the database announces on
 * `idgraph_credentials`, and drops what it names from the cache.
 *
 * The cache serves only while the listener is known to hear: a marker sent
 * through the pool, as writes are, must come back to it, when it subscribes,
 * every HEARTBEAT_MS and after each commit of this process. A listener that
 * does not hear its marker within ROUND_TRIP_MS (its connection killed or
 * gone silent, PostgreSQL restarted, a pooler in transaction mode that
 * delivers announcements elsewhere) is given up: the cache is cleared and
 * bypassed until a new connection has heard a marker again.
 */
export class InvalidationListener {
  private client: Client | null = null;
  private hearing = false;
  private stopped = false;
  private retryMs = RETRY_MIN_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private readonly instance = randomUUID();
  private sequence = 0;
  private readonly awaited = new Map<string, () => void>();
  private readonly barriers = new Set<Promise<unknown>>();
  private lostSince: number | null = null;

  constructor(
    private readonly connection: ClientConfig,
    private readonly announce: Announce,
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

  /** Null when this process has heard everything it committed; else what to wait for. */
  unheard(): Promise<unknown> | null {
    if (this.barriers.size === 0) return null;
    return Promise.all(this.barriers);
  }

  /**
   * Called after each commit of this process, without waiting for it: the
   * cache's next lookup waits (see `unheard`) until a marker sent after the
   * commit has come back. PostgreSQL delivers announcements in commit order,
   * so every announcement of the commit was heard before it.
   */
  barrier(): void {
    if (!this.hearing) return;
    const client = this.client!;
    const barrier = this.roundTrip().then((heard) => {
      if (!heard) this.lost(client, new Error('a marker sent after a commit was not heard in time'));
    });
    this.barriers.add(barrier);
    void barrier.finally(() => this.barriers.delete(barrier));
  }

  /** Whether a marker announced through the pool now comes back to this listener within ROUND_TRIP_MS. */
  private async roundTrip(): Promise<boolean> {
    const marker = `sync:${this.instance}:${(this.sequence += 1)}`;
    let timer: NodeJS.Timeout | undefined;
    const heard = new Promise<boolean>((resolve) => {
      this.awaited.set(marker, () => resolve(true));
      timer = setTimeout(() => resolve(false), ROUND_TRIP_MS);
    });
    try {
      return await Promise.race([heard, this.announce(marker).then(() => heard, () => false)]);
    } finally {
      clearTimeout(timer);
      this.awaited.delete(marker);
    }
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new Client({ ...this.connection, application_name: LISTENER_APPLICATION_NAME, keepAlive: true, query_timeout: ROUND_TRIP_MS * 2 });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client));
    client.on('notification', (message) => this.heard(message));
    this.client = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${INVALIDATION_CHANNEL}`);
    } catch (error) {
      this.lost(client, error);
      return;
    }
    if (this.client !== client) return;
    if (!(await this.roundTrip())) {
      this.lost(client, new Error('announcements sent through the pool do not reach the listener (a pooler in transaction mode in between?)'));
      return;
    }
    if (this.client !== client || this.stopped) return;
    this.hearing = true;
    this.retryMs = RETRY_MIN_MS;
    this.cache.setListening(true);
    if (this.lostSince !== null) {
      this.log.info({ downMs: Date.now() - this.lostSince }, 'credential cache serving again: its listener hears announcements');
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
    if (!this.hearing) return;
    const client = this.client!;
    if (!(await this.roundTrip())) this.lost(client, new Error('the heartbeat marker was not heard in time'));
  }

  /** The cache stops serving first; the reconnection follows. */
  private lost(client: Client, error?: unknown): void {
    if (this.client !== client) return;
    this.drop();
    client.removeAllListeners('notification');
    client.end().catch(() => undefined);
    if (this.stopped) return;
    if (this.lostSince === null) {
      this.lostSince = Date.now();
      this.log.warn({ err: error instanceof Error ? error.message : undefined }, 'credential cache bypassed: its listener does not hear announcements');
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
    this.hearing = false;
    this.cache.setListening(false);
    for (const resolve of this.awaited.values()) resolve();
    this.awaited.clear();
  }
}
