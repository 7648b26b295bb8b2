import { randomUUID } from 'node:crypto';
import type { ApolloServerPlugin } from '@apollo/server';
import { parse as parseCookies } from 'cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authorizationHeaderOf } from '../auth/authorization-header';
import { credentialLabel, presentedCredential, type CredentialLabel } from '../auth/verification-result';
import type { RequestContext } from '../context';
import { SESSION_COOKIE } from '../modules/sessions/sessions.service';

/** What one request was, gathered while it runs and handed over when its response is finished. Never a secret. */
export type RequestRecord = {
  requestId: string;
  method: string;
  path: string;
  /** The GraphQL operation's name, null for an anonymous one; undefined for a request that is not GraphQL. */
  operation?: string | null;
  principal?: { kind: 'USER' | 'SERVICE_USER'; id: string };
  credential?: CredentialLabel;
  /** `extensions.code` of each GraphQL error of the response. */
  errorCodes: string[];
};

export type FinishedRequest = RequestRecord & { status: number; ms: number };

/**
 * The record rides on the context under a symbol: Apollo Server hands plugins
 * a shallow copy of the context (so a WeakMap keyed by it would miss), and
 * nothing else reads the property.
 */
const RECORD = Symbol('request record');
type RecordedContext = RequestContext & { [RECORD]?: RequestRecord };

declare module 'fastify' {
  interface FastifyRequest {
    /** What the request was, for the access log and the metrics. */
    record: RequestRecord;
  }
}

/**
 * Starts a record per request (and its request id, sent back as
 * `x-request-id`) as the request's first hook; calls `onFinish` once the
 * response is sent, with the time Fastify measured.
 */
export function recordRequests(app: FastifyInstance, onFinish: (request: FinishedRequest) => void): void {
  app.decorateRequest('record', null as unknown as RequestRecord);
  app.addHook('onRequest', (request, reply, done) => {
    const url = request.url;
    const query = url.indexOf('?');
    // One object from start to finish, its status and time filled in at the end.
    const record: FinishedRequest = { requestId: randomUUID(), method: request.method, path: query === -1 ? url : url.slice(0, query), errorCodes: [], status: 0, ms: 0 };
    request.record = record;
    reply.header('x-request-id', record.requestId);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    // A request refused while draining answered before its record was started.
    const record = request.record as FinishedRequest | null;
    if (record) {
      record.status = reply.statusCode;
      record.ms = reply.elapsedTime;
      onFinish(record);
    }
    done();
  });
}

/**
 * Wraps the GraphQL context factory: a context that is made notes its
 * principal; one that fails (a refused credential) notes its error code and
 * the kind of credential presented, since Apollo then runs no request plugin.
 */
export function recordingContext(
  factory: (request: FastifyRequest, reply: FastifyReply) => Promise<RequestContext>,
  tokenPrefix: string,
): (request: FastifyRequest, reply: FastifyReply) => Promise<RequestContext> {
  return async (request, reply) => {
    const record = request.record as RequestRecord | null;
    try {
      const context = await factory(request, reply);
      if (record) {
        (context as RecordedContext)[RECORD] = record;
        if (context.principal) {
          record.principal = { kind: context.principal.kind, id: context.principal.id };
          record.credential = credentialLabel(context.principal.credential);
        }
      }
      return context;
    } catch (error) {
      if (record) {
        const body = request.body as { operationName?: unknown } | undefined;
        record.operation = typeof body?.operationName === 'string' ? body.operationName : null;
        const code = (error as { extensions?: { code?: unknown } }).extensions?.code;
        record.errorCodes.push(typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR');
        const sessionCookie = request.headers.cookie === undefined ? undefined : parseCookies(request.headers.cookie)[SESSION_COOKIE];
        record.credential = presentedCredential({ authorization: authorizationHeaderOf(request.raw.rawHeaders), sessionCookie }, tokenPrefix) ?? undefined;
      }
      throw error;
    }
  };
}

/** Notes the operation's name and the codes of the response's errors, as formatted for the client. */
export function recordingPlugin(): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ contextValue, operationName, request, response }) {
          const record = (contextValue as RecordedContext)[RECORD];
          if (!record) return;
          record.operation = operationName ?? request.operationName ?? null;
          if (response.body.kind !== 'single') return;
          for (const error of response.body.singleResult.errors ?? []) {
            const code = error.extensions?.code;
            record.errorCodes.push(typeof code === 'string' ? code : 'UNKNOWN');
          }
        },
      };
    },
  };
}
