import { randomUUID } from 'node:crypto';
import { parse as parseCookies, serialize as serializeCookie } from 'cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GraphQLError } from 'graphql';
import type { DataSource } from 'typeorm';
import { resolveAccess, type OrgAccess } from './auth/access';
import { clientAddressOf } from './common/client-address';
import type { Authenticator } from './auth/authenticator';
import { authorizationHeaderOf } from './auth/authorization-header';
import type { Principal } from './auth/principal';
import type { DatabaseAvailability } from './db/availability';
import { DomainError } from './errors';
import { createLoaders, type Loaders } from './loaders';
import type { Logger } from './logger';
import { SESSION_COOKIE } from './modules/sessions/sessions.service';
import type { Services } from './services';

export type CookieJar = {
  set(name: string, value: string, maxAgeSeconds: number): void;
  clear(name: string): void;
};

/** Everything a resolver and a service method may know about the request. */
export type RequestContext = {
  requestId: string;
  principal: Principal | null;
  /** The request carried a session cookie that is no longer valid. */
  sessionExpired: boolean;
  clientAddress: string;
  userAgent: string | null;
  /** Set for the `idgraph` command line: the audit log then names an OPERATOR as the actor, not the principal. */
  operator?: true;
  log: Logger;
  loaders: Loaders;
  services: Services;
  cookies: CookieJar;
  /** The session cookie's value as sent, whatever credential authenticated the request. */
  sessionCookie: string | undefined;
  /** The principal's standing in an organization (memoised for the request). */
  access(organizationId: string): Promise<OrgAccess | null>;
  /** Forgets what the request has read, after a write that changes it (roles, memberships, tokens). */
  forget(): void;
};

/** `Secure` over https, and always in production, where TLS may end at a proxy idgraph was not told to trust. */
function cookieJar(request: FastifyRequest, reply: FastifyReply, production: boolean): CookieJar {
  // Read only when a cookie is written: `protocol` parses X-Forwarded-Proto behind a trusted proxy.
  const base = () => ({ httpOnly: true, sameSite: 'lax' as const, secure: production || request.protocol === 'https', path: '/' });
  // Fastify appends each Set-Cookie value rather than replacing the previous one.
  return {
    set: (name, value, maxAgeSeconds) => void reply.header('set-cookie', serializeCookie(name, value, { ...base(), maxAge: maxAgeSeconds })),
    clear: (name) => void reply.header('set-cookie', serializeCookie(name, '', { ...base(), maxAge: 0, expires: new Date(0) })),
  };
}

type ContextDeps = {
  dataSource: DataSource;
  services: Services;
  authenticator: Authenticator;
  log: Logger;
  availability?: DatabaseAvailability;
  production: boolean;
};

/** What a request's context keeps for the members made on first use. */
type RequestState = {
  request: FastifyRequest;
  reply: FastifyReply;
  log?: Logger;
  loaders?: Loaders;
  cookies?: CookieJar;
  accessByOrganization?: Map<string, Promise<OrgAccess | null>>;
  afterWrite: boolean;
};

const STATE = Symbol('request state');
type ContextObject = RequestContext & { [STATE]: RequestState };

/**
 * The members of every context that cost something to make and that most
 * requests (`{ __typename }`, `viewer`, a refused credential) never use: the
 * loaders, the request's logger, the cookie jar, the memo of standings. They
 * live on the prototype and are made on first use. Apollo Server hands the
 * operation a copy of the context's own properties on an object of the same
 * prototype, so their state sits in one object that the copies share.
 */
function contextPrototype(deps: ContextDeps): ThisType<ContextObject> & Pick<RequestContext, 'log' | 'loaders' | 'cookies' | 'access' | 'forget'> {
  return {
    get log() {
      const state = this[STATE];
      return (state.log ??= deps.log.child({ requestId: this.requestId }));
    },
    get loaders() {
      const state = this[STATE];
      return (state.loaders ??= createLoaders(deps.dataSource));
    },
    get cookies() {
      const state = this[STATE];
      return (state.cookies ??= cookieJar(state.request, state.reply, deps.production));
    },
    access(organizationId) {
      const state = this[STATE];
      const memo = (state.accessByOrganization ??= new Map());
      let access = memo.get(organizationId);
      if (!access) {
        access = resolveAccess(this.principal, organizationId, this.loaders, state.afterWrite);
        memo.set(organizationId, access);
      }
      return access;
    },
    forget() {
      const state = this[STATE];
      state.afterWrite = true;
      state.accessByOrganization?.clear();
      if (state.loaders) for (const loader of Object.values(state.loaders)) loader.clearAll();
    },
  };
}

export function createContextFactory(deps: ContextDeps) {
  const prototype = contextPrototype(deps);
  return async (request: FastifyRequest, reply: FastifyReply): Promise<RequestContext> => {
    const requestId = (request.record as { requestId: string } | null)?.requestId ?? randomUUID();
    const clientAddress = clientAddressOf(request);
    const userAgent = request.headers['user-agent']?.slice(0, 512) ?? null;
    const cookieHeader = request.headers.cookie;
    const sessionCookie = cookieHeader === undefined ? undefined : parseCookies(cookieHeader)[SESSION_COOKIE];
    let authentication;
    try {
      authentication = await deps.authenticator.authenticate({
        authorization: authorizationHeaderOf(request.raw.rawHeaders),
        sessionCookie,
        clientAddress,
        userAgent,
      });
    } catch (error) {
      // Apollo Server answers a GraphQLError thrown here as it is (status and headers from extensions.http).
      const known = error instanceof DomainError ? error : deps.availability?.answerFor(error);
      if (known) throw new GraphQLError(known.message, { extensions: known.extensions });
      throw error;
    }
    const context = Object.create(prototype) as ContextObject;
    context.requestId = requestId;
    context.principal = authentication.principal;
    context.sessionExpired = authentication.sessionExpired;
    context.clientAddress = clientAddress;
    context.userAgent = userAgent;
    context.services = deps.services;
    context.sessionCookie = sessionCookie;
    context[STATE] = { request, reply, afterWrite: false };
    return context;
  };
}
