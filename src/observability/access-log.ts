import type { Logger } from '../logger';
import type { FinishedRequest } from './request-record';

/** A client chooses the operation's name and can provoke many errors: the line keeps no more than this of either. */
const MAX_OPERATION_NAME = 100;
const MAX_ERROR_CODES = 20;

/**
 * One line per request. Errors (HTTP status 400 and above, or GraphQL errors)
 * and requests slower than `slowRequestMs` are written at `info`; the others
 * at `debug`, and when that level is off their line is not even built, so
 * that logging does not limit throughput.
 */
export function accessLog(log: Logger, slowRequestMs: number): (request: FinishedRequest) => void {
  return (request) => {
    const failed = request.status >= 400 || request.errorCodes.length > 0;
    const slow = request.ms >= slowRequestMs;
    const level = failed || slow ? 'info' : 'debug';
    if (!log.isLevelEnabled(level)) return;
    log[level](
      {
        requestId: request.requestId,
        method: request.method,
        path: request.path,
        operation: typeof request.operation === 'string' ? request.operation.slice(0, MAX_OPERATION_NAME) : request.operation,
        principal: request.principal,
        credential: request.credential,
        status: request.status,
        errors: request.errorCodes.length > 0 ? request.errorCodes.slice(0, MAX_ERROR_CODES) : undefined,
        ms: Math.round(request.ms * 10) / 10,
        slow: slow || undefined,
      },
      'request',
    );
  };
}
