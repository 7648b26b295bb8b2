import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import type { Logger } from './logger';

export enum ErrorCode {
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  BAD_USER_INPUT = 'BAD_USER_INPUT',
  NOT_FOUND = 'NOT_FOUND',
  CONFLICT = 'CONFLICT',
  RATE_LIMITED = 'RATE_LIMITED',
  SERVICE_UNAVAILABLE = 'SERVICE_UNAVAILABLE',
  INTERNAL_SERVER_ERROR = 'INTERNAL_SERVER_ERROR',
}

/**
 * An error whose message is written for the client. Anything else is internal
 * and hidden. graphql-js copies `extensions` of a thrown error onto the
 * GraphQL error, and Apollo Server takes `extensions.http` for the response's
 * status and headers (stripping it from the body).
 */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }

  get extensions(): Record<string, unknown> {
    return { code: this.code, ...this.details, ...httpExtensions(this) };
  }
}

export const badInput = (field: string, message: string) =>
  new DomainError(ErrorCode.BAD_USER_INPUT, `${field}: ${message}`, { field });
export const notFound = (what: string) => new DomainError(ErrorCode.NOT_FOUND, `${what} not found`);
export const forbidden = (message: string, extensions: Record<string, unknown> = {}) =>
  new DomainError(ErrorCode.FORBIDDEN, message, extensions);
export const conflict = (message: string) => new DomainError(ErrorCode.CONFLICT, message);
export const rateLimited = (retryAfter: number) =>
  new DomainError(ErrorCode.RATE_LIMITED, `too many attempts, retry in ${retryAfter} s`, { retryAfter });
/** How long a client is asked to wait (Retry-After) when the database is out of reach or the server is stopping. */
export const RETRY_AFTER_SECONDS = 5;

/** A store idgraph needs is out of reach or too slow: worth retrying, and nothing in the message says where it is. */
export const serviceUnavailable = (retryAfter = RETRY_AFTER_SECONDS) =>
  new DomainError(ErrorCode.SERVICE_UNAVAILABLE, 'the service is temporarily unavailable, retry later', { retryAfter });

/** RFC 6750 error codes for the WWW-Authenticate challenge. */
export type AuthFailure = 'missing' | 'invalid_request' | 'invalid_token';

/** Why a presented credential was refused, as the metrics count it. */
export type CredentialRefusal =
  | 'malformed'
  | 'unknown'
  | 'revoked'
  | 'expired'
  | 'policy'
  /** A secret that regeneration replaced, presented after its grace period. */
  | 'replaced';

export class AuthenticationError extends DomainError {
  constructor(
    readonly failure: AuthFailure,
    message: string,
    /** Refused on its shape alone, before any lookup: such failures cost nothing and are not rate limited. */
    readonly malformed = false,
    readonly refusal: CredentialRefusal = malformed ? 'malformed' : 'unknown',
  ) {
    super(ErrorCode.UNAUTHENTICATED, message);
  }
}

const REALM = 'idgraph';

/** The challenge of RFC 6750 §3: no error code when no credential was sent at all. */
export function wwwAuthenticate(failure: AuthFailure, description: string): string {
  const schemes = failure === 'missing' ? [`Bearer realm="${REALM}"`, `Token realm="${REALM}"`] : [
    `Bearer realm="${REALM}", error="${failure}", error_description="${description.replace(/"/g, "'")}"`,
  ];
  return schemes.join(', ');
}

/** The HTTP side of an error: Apollo Server reads `extensions.http` and strips it from the body. */
function httpExtensions(error: DomainError): Record<string, unknown> {
  if (error instanceof AuthenticationError) {
    return { http: { status: 401, headers: new Map([['www-authenticate', wwwAuthenticate(error.failure, error.message)]]) } };
  }
  if (error.code === ErrorCode.RATE_LIMITED) {
    return { http: { status: 429, headers: new Map([['retry-after', String(error.details.retryAfter)]]) } };
  }
  if (error.code === ErrorCode.SERVICE_UNAVAILABLE) {
    return { http: { status: 503, headers: new Map([['retry-after', String(error.details.retryAfter)]]) } };
  }
  return {};
}

/** Codes Apollo Server and graphql-js produce for bad requests; their messages are safe to show. */
const CLIENT_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  ...Object.values(ErrorCode),
]);

/**
 * The one formatError: known codes pass, anything else is logged and answered
 * without details. `translate` turns an error of the infrastructure (the
 * database out of reach) into the DomainError the client is to see.
 */
export function createFormatError(log: Logger, translate: (error: unknown) => DomainError | null = () => null) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const unwrapped = unwrapResolverError(error);
    const original = unwrapped instanceof DomainError ? unwrapped : (translate(unwrapped) ?? unwrapped);
    if (original instanceof DomainError) {
      return { message: original.message, path: formatted.path, locations: formatted.locations, extensions: { code: original.code, ...original.details } };
    }
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && CLIENT_CODES.has(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR) {
      const { stacktrace: _stacktrace, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions };
    }
    // Apollo's own refusals of a request without a code (a persisted query whose hash does not match): the client's error.
    const uncoded = original instanceof GraphQLError && original.extensions.code === undefined;
    const status = (uncoded ? (original.extensions.http as { status?: unknown } | undefined)?.status : undefined) as number | undefined;
    if (status !== undefined && status >= 400 && status < 500) {
      return { message: formatted.message, locations: formatted.locations, extensions: { code: 'BAD_REQUEST' } };
    }
    log.error({ err: original instanceof Error ? { message: original.message, stack: original.stack } : String(original), path: formatted.path }, 'internal error');
    return {
      message: 'Internal server error',
      path: formatted.path,
      locations: formatted.locations,
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    };
  };
}

/**
 * formatError shapes an error's body but comes too late to set the
 * response's status: this plugin gives the response the status and headers
 * of an error that `translate` recognises (503 and Retry-After when the
 * database is out of reach), for errors thrown in resolvers.
 */
export function translatedErrorStatus(translate: (error: unknown) => DomainError | null): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, response }) {
          for (const error of errors) {
            const original = unwrapResolverError(error);
            const http = original instanceof DomainError ? undefined : translate(original)?.extensions.http;
            if (!http) continue;
            const { status, headers } = http as { status: number; headers: Map<string, string> };
            response.http.status = status;
            for (const [name, value] of headers) response.http.headers.set(name, value);
            return;
          }
        },
      };
    },
  };
}
