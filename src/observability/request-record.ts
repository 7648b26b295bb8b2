import { randomUUID } from 'node:crypto';
import type { ApolloServerPlugin } from '@apollo/server';
import { parse as parseCookies } from 'cookie';
import type { Request, RequestHandler, Response } from 'express';
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

function recordOf(res: Response): RequestRecord | undefined {
  return res.locals.record as RequestRecord | undefined;
}

/** Starts a record per request (and its request id, sent back as `x-request-id`); calls `onFinish` once the response is sent. */
export function recordRequests(onFinish: (request: FinishedRequest) => void): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const record: RequestRecord = { requestId: randomUUID(), method: req.method, path: req.originalUrl.split('?')[0] ?? '', errorCodes: [] };
    res.locals.record = record;
    res.locals.requestId = record.requestId;
    res.setHeader('x-request-id', record.requestId);
    res.on('finish', () => onFinish({ ...record, status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
    next();
  };
}

/**
 * Wraps the GraphQL context factory: a context that is made notes its
 * principal; one that fails (a refused credential) notes its error code and
 * the kind of credential presented, since Apollo then runs no request plugin.
 */
export function recordingContext<Args extends { req: Request; res: Response }>(
  factory: (args: Args) => Promise<RequestContext>,
  tokenPrefix: string,
): (args: Args) => Promise<RequestContext> {
  return async (args) => {
    const record = recordOf(args.res);
    try {
      const context = await factory(args);
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
        const body = args.req.body as { operationName?: unknown } | undefined;
        record.operation = typeof body?.operationName === 'string' ? body.operationName : null;
        const code = (error as { extensions?: { code?: unknown } }).extensions?.code;
        record.errorCodes.push(typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR');
        const sessionCookie = args.req.headers.cookie === undefined ? undefined : parseCookies(args.req.headers.cookie)[SESSION_COOKIE];
        record.credential = presentedCredential({ authorization: authorizationHeaderOf(args.req.rawHeaders), sessionCookie }, tokenPrefix) ?? undefined;
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
