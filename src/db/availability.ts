import type { DataSource, EntitySubscriberInterface } from 'typeorm';
import { serviceUnavailable, type DomainError } from '../errors';
import type { Logger } from '../logger';
import { databaseFailure, type DatabaseFailure } from './errors';

/** What a log line may say about the cause: the driver's code and message, never a stack. */
function describe(error: unknown): Record<string, unknown> {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  const driverError = (error as { driverError?: { code?: unknown; message?: unknown } } | null)?.driverError;
  return { code: code ?? driverError?.code, message: typeof message === 'string' ? message : String(error) };
}

/**
 * How long after the latest failure a call must have begun to prove the
 * database back: while PostgreSQL shuts down, a call on a connection it has
 * not closed yet still succeeds, and announcing that would make one outage
 * two.
 */
const SETTLE_MS = 1000;

/**
 * Whether PostgreSQL answers, as the latest database calls found it. Each
 * change is logged once — a warning when it becomes unreachable, another when
 * it is back — so that an outage costs two log lines, not one per request.
 */
export class DatabaseAvailability {
  private unreachableSince: number | null = null;
  private lastFailureAt = 0;

  constructor(
    private readonly log?: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  get reachable(): boolean {
    return this.unreachableSince === null;
  }

  /** Notes a failed database call; says whether the database was the cause (out of reach, or too slow). */
  observeFailure(error: unknown): DatabaseFailure | null {
    const failure = databaseFailure(error);
    if (failure === 'unreachable') this.lastFailureAt = this.clock();
    if (failure === 'unreachable' && this.unreachableSince === null) {
      this.unreachableSince = this.clock();
      this.log?.warn({ cause: describe(error) }, 'database unreachable: requests that need it are answered 503 until it is back');
    }
    return failure;
  }

  /** The answer for an error: 503 SERVICE_UNAVAILABLE when the database caused it, null for any other error. */
  answerFor(error: unknown): DomainError | null {
    return this.observeFailure(error) ? serviceUnavailable() : null;
  }

  /** Notes a database call that succeeded; one that began before the latest failure had settled proves nothing about now. */
  observeSuccess(startedAt = this.clock()): void {
    if (this.unreachableSince === null || startedAt < this.lastFailureAt + SETTLE_MS) return;
    this.log?.warn({ unreachableMs: this.clock() - this.unreachableSince }, 'database reachable again');
    this.unreachableSince = null;
  }

  /**
   * Follows every query of the data source: a query that succeeds is the proof
   * that the database is back. Call after `initialize()`, which replaces the
   * data source's subscribers.
   */
  watch(dataSource: DataSource): void {
    const subscriber: EntitySubscriberInterface = {
      afterQuery: (event) => {
        if (event.success) this.observeSuccess(this.clock() - (event.executionTime ?? 0));
        else this.observeFailure(event.error);
      },
    };
    dataSource.subscribers.push(subscriber);
  }
}
