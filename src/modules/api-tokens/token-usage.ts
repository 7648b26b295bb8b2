import type { DataSource } from 'typeorm';
import type { Logger } from '../../logger';

export const KEPT_ADDRESSES = 5;

type Usage = { at: Date; addresses: string[] };

/**
 * Keeps `lastUsedAt` and the last few distinct client addresses of each token
 * without a write per request: uses gather in memory and are written every
 * `flushSeconds` and at shutdown. What the database shows may therefore be up
 * to `flushSeconds` old (and a crash loses at most that much).
 */
export class TokenUsageRecorder {
  private pending = new Map<string, Usage>();
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  /** Told of every flush that had something to write: the rows written, or `failed` (the metrics count them). */
  onFlush: (written: number | 'failed') => void = () => undefined;

  constructor(
    private readonly dataSource: DataSource,
    flushSeconds: number,
    private readonly log: Logger,
  ) {
    this.timer = setInterval(() => void this.flush(), flushSeconds * 1000);
    this.timer.unref();
  }

  record(tokenId: string, address: string, at = new Date()): void {
    const usage = this.pending.get(tokenId) ?? { at, addresses: [] };
    usage.at = at > usage.at ? at : usage.at;
    usage.addresses = [address, ...usage.addresses.filter((known) => known !== address)].slice(0, KEPT_ADDRESSES);
    this.pending.set(tokenId, usage);
  }

  /** Writes what has gathered; flushes never overlap. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  private async write(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      const [, rowsWritten]: [unknown, number] = await this.dataSource.query(
        `UPDATE api_tokens AS t SET
           "lastUsedAt" = GREATEST(t."lastUsedAt", u.at),
           "lastUsedAddresses" = ARRAY(
             SELECT address FROM unnest(u.addresses || t."lastUsedAddresses") WITH ORDINALITY AS seen(address, position)
             GROUP BY address ORDER BY min(position) LIMIT ${KEPT_ADDRESSES})
         FROM (SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, at timestamptz, addresses varchar[])) AS u
         WHERE t.id = u.id`,
        [JSON.stringify([...batch].map(([id, usage]) => ({ id, at: usage.at.toISOString(), addresses: usage.addresses })))],
      );
      this.onFlush(rowsWritten);
    } catch (error) {
      this.onFlush('failed');
      this.log.warn({ err: error instanceof Error ? error.message : String(error), tokens: batch.size }, 'token usage not recorded');
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
