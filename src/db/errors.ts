import { QueryFailedError } from 'typeorm';

/** The name of the unique constraint or index a write violated, or null for any other error. */
export function uniqueViolation(error: unknown): string | null {
  if (!(error instanceof QueryFailedError)) return null;
  const driverError = error.driverError as { code?: string; constraint?: string };
  return driverError.code === '23505' ? (driverError.constraint ?? 'unknown') : null;
}

/**
 * SQLSTATEs of a transaction that PostgreSQL ended because it collided with
 * another (a deadlock, a serialization failure): nothing was written, and the
 * same request sent again will normally pass.
 */
const COLLISION_SQLSTATES = new Set(['40P01', '40001']);

export function transactionCollision(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 4) return false;
  const { code, driverError, cause, originalError } = error as Record<string, unknown>;
  if (typeof code === 'string' && COLLISION_SQLSTATES.has(code)) return true;
  return [driverError, cause, originalError].some((inner) => transactionCollision(inner, depth + 1));
}

/**
 * Why a database call failed when the database itself is the cause:
 * `unreachable` (no connection, or the connection lost: the server is down,
 * restarting, out of connection slots or on the other side of a broken
 * network) or `timeout` (it answered too slowly: statement_timeout); null
 * for any other error, such as a constraint violation.
 */
export type DatabaseFailure = 'unreachable' | 'timeout';

/**
 * Node's socket errors: nothing answers at the address, or the connection
 * broke. ENOENT is a Unix socket that is not there (the embedded PostgreSQL
 * removes its socket when it stops).
 */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ENOENT']);

/**
 * SQLSTATEs of a server that cannot serve: class 08 (connection exception),
 * admin or crash shutdown, starting up or shutting down, too many connections.
 */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
const QUERY_CANCELED = '57014';

/** What pg and pg-pool say, without a code, when a connection cannot be made or has been lost. */
const CONNECTION_LOST = [
  /^Connection terminated/,
  /^timeout exceeded when trying to connect/,
  /^Query read timeout/,
  /is not queryable/,
  /^Cannot use a pool after calling end on the pool/,
];

function failureOf(error: object): DatabaseFailure | null {
  const { code, message, name } = error as { code?: unknown; message?: unknown; name?: unknown };
  if (typeof code === 'string') {
    if (SOCKET_CODES.has(code) || code.startsWith('08') || UNAVAILABLE_SQLSTATES.has(code)) return 'unreachable';
    if (code === QUERY_CANCELED) return 'timeout';
  }
  // TypeORM, once its pool has been closed at shutdown.
  if (name === 'CannotExecuteNotConnectedError') return 'unreachable';
  if (typeof message === 'string' && CONNECTION_LOST.some((pattern) => pattern.test(message))) return 'unreachable';
  return null;
}

/**
 * The one place that tells a database outage from any other error. Looks
 * through the wrappers an error gathers on its way up: TypeORM's
 * QueryFailedError (`driverError`), `cause`, an AggregateError's `errors`
 * (a host name with several addresses), GraphQL's `originalError`, and the
 * `thrownValue` of graphql-js's NonErrorThrown (the rate limiter's store
 * rejects with a plain object).
 */
export function databaseFailure(error: unknown, depth = 0): DatabaseFailure | null {
  if (typeof error !== 'object' || error === null || depth > 4) return null;
  const own = failureOf(error);
  if (own) return own;
  const { driverError, cause, errors, originalError, thrownValue } = error as Record<string, unknown>;
  for (const inner of [driverError, cause, originalError, thrownValue, ...(Array.isArray(errors) ? errors : [])]) {
    const found = databaseFailure(inner, depth + 1);
    if (found) return found;
  }
  return null;
}
