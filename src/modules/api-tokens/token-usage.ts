import type { DataSource } from 'typeorm';
import { normaliseAddress } from '../../common/client-address';
import type { Logger } from '../../logger';

export const KEPT_ADDRESSES = 5;

type Usage = { at: Date; addresses: string[] };

type UsageRow = { id: string; at: string; addresses: string[] };

/**
 * PostgreSQL refused the data itself (SQLSTATE class 22, data exception, or
 * 23, integrity violation), as opposed to not answering: only then can the
 * rows be told apart by writing them one at a time.
 */
function refusedData(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

/**
 * Keeps `lastUsedAt` and the last few distinct client addresses of each token,
 * and when each personal access token was last exchanged, without a write per
 * request: uses gather in memory and are written every
 * `flushSeconds` and at shutdown. What the database shows may therefore be up
 * to `flushSeconds` old (and a crash loses at most that much).
 */
export class TokenUsageRecorder {
  private pending = new Map<string, Usage>();
  /** Personal access tokens by id: when each was last exchanged for an access token. */
  private pendingExchanges = new Map<string, Date>();
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

  /** A use of the token; an address that is not one (the socket closed before it was read) is not kept. */
  record(tokenId: string, address: string, at = new Date()): void {
    this.merge(tokenId, { at, addresses: normaliseAddress(address) === address ? [address] : [] });
  }

  /** An exchange of a personal access token for an access token. */
  recordExchange(patId: string, at: Date): void {
    const known = this.pendingExchanges.get(patId);
    if (!known || at > known) this.pendingExchanges.set(patId, at);
  }

  /** Folds `usage` into what is pending for the token, the newer addresses first. */
  private merge(tokenId: string, usage: Usage, olderThanPending = false): void {
    const known = this.pending.get(tokenId);
    if (!known) {
      this.pending.set(tokenId, { at: usage.at, addresses: usage.addresses.slice(0, KEPT_ADDRESSES) });
      return;
    }
    const ordered = olderThanPending ? [...known.addresses, ...usage.addresses] : [...usage.addresses, ...known.addresses];
    known.at = usage.at > known.at ? usage.at : known.at;
    known.addresses = [...new Set(ordered)].slice(0, KEPT_ADDRESSES);
  }

  /** Writes what has gathered; flushes never overlap. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  /**
   * One statement for the whole batch. When PostgreSQL refuses a row, the
   * batch is written again row by row, so that only that row is lost; when
   * it does not answer, the batch waits in memory for the next flush.
   */
  private async write(): Promise<void> {
    await this.writeExchanges();
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const rows: UsageRow[] = [...batch].map(([id, usage]) => ({ id, at: usage.at.toISOString(), addresses: usage.addresses }));
    try {
      this.onFlush(await this.update(rows));
    } catch (error) {
      if (!refusedData(error)) {
        this.onFlush('failed');
        for (const [id, usage] of batch) this.merge(id, usage, true);
        this.log.warn({ err: error instanceof Error ? error.message : String(error), tokens: batch.size }, 'token usage not recorded yet, kept for the next flush');
        return;
      }
      let written = 0;
      for (const row of rows) {
        try {
          written += await this.update([row]);
        } catch (rowError) {
          this.log.warn({ err: rowError instanceof Error ? rowError.message : String(rowError), tokenId: row.id }, 'token usage not recorded');
        }
      }
      this.onFlush(written);
    }
  }

  /** The exchanges' times, in one statement; kept for the next flush when PostgreSQL does not answer. */
  private async writeExchanges(): Promise<void> {
    if (this.pendingExchanges.size === 0) return;
    const batch = this.pendingExchanges;
    this.pendingExchanges = new Map();
    try {
      await this.dataSource.query(
        `UPDATE personal_access_tokens AS p SET "lastUsedAt" = GREATEST(p."lastUsedAt", u.at)
           FROM (SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, at timestamptz)) AS u
          WHERE p.id = u.id`,
        [JSON.stringify([...batch].map(([id, at]) => ({ id, at: at.toISOString() })))],
      );
    } catch (error) {
      for (const [id, at] of batch) this.recordExchange(id, at);
      this.log.warn({ err: error instanceof Error ? error.message : String(error), personalAccessTokens: batch.size }, 'exchanges not recorded yet, kept for the next flush');
    }
  }

  /** Returns the number of rows written. */
  private async update(rows: UsageRow[]): Promise<number> {
    const [, written] = (await this.dataSource.query(
      `UPDATE api_tokens AS t SET
         "lastUsedAt" = GREATEST(t."lastUsedAt", u.at),
         "lastUsedAddresses" = ARRAY(
           SELECT address FROM unnest(u.addresses || t."lastUsedAddresses") WITH ORDINALITY AS seen(address, position)
           GROUP BY address ORDER BY min(position) LIMIT ${KEPT_ADDRESSES})
       FROM (SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, at timestamptz, addresses varchar[])) AS u
       WHERE t.id = u.id`,
      [JSON.stringify(rows)],
    )) as [unknown, number];
    return written;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
