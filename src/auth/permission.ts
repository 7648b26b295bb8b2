import { createMethodMiddlewareDecorator } from 'type-graphql';
import type { RequestContext } from '../context';
import { AuthenticationError, forbidden, notFound } from '../errors';
import { CredentialKind, isAccountCredential } from './principal';
import { has, type Right } from './rights';

type Resolve = { args: Record<string, any>; root: any; context: RequestContext };

/**
 * What an operation needs, declared on the resolver method. Every root field
 * must declare one (the schema refuses to build otherwise) and the list is
 * held in a snapshot test, so a change shows up in review.
 */
export type PermissionSpec =
  | { kind: 'public' }
  | { kind: 'authenticated' }
  | { kind: 'account' }
  /** A person's own long-lived credential: what may mint or replace credentials that outlive the request's. */
  | { kind: 'primary' }
  /**
   * The principal's own records (a user's tokens across organizations). An
   * organization-scoped token also needs `scopedRight` there; with null, it never sees them.
   */
  | { kind: 'own'; ownerOf: (resolve: Resolve) => string; scopedRight: Right | null }
  | {
      kind: 'organization';
      /**
       * Absent: any standing in the organization; the service applies the finer rule (see `note`).
       * A function when the right depends on the object (a token's owner: a user or a service user).
       */
      right?: Right | { of: (resolve: Resolve) => Right; describe: string };
      /** What is not found when the organization cannot be reached ("organization", "service user"...). */
      resource: string;
      organizationOf: (resolve: Resolve) => Promise<string | null | undefined> | string | null | undefined;
      /** The id of the user or service user the field shows: the principal itself may always see itself. */
      selfOf?: (resolve: Resolve) => string | null | undefined;
      /**
       * A nullable field that answers null instead of an error: when there is no organization to ask about
       * (`viewer.organization` of an account credential), or also whenever the caller may not see it.
       */
      orNull?: 'without-organization' | 'when-denied';
      /** The operation yields a credential or a role: `assertWithinCeiling` (auth/ceiling.ts) bounds it by the caller's effective rights. */
      ceiling?: 'credential' | 'role';
      note?: string;
    };

export const PERMISSIONS = new Map<string, PermissionSpec>();

export function describePermission(spec: PermissionSpec): string {
  switch (spec.kind) {
    case 'public':
      return 'public';
    case 'authenticated':
      return 'any authenticated principal';
    case 'account':
      return 'a user with an account credential (session, user key or access token)';
    case 'primary':
      return 'a user with a session or the user key';
    case 'own':
      return spec.scopedRight
        ? `the principal's own; an organization-scoped token also needs ${spec.scopedRight}`
        : "the principal's own; never through an organization-scoped token";
    case 'organization': {
      const named = typeof spec.right === 'object' ? spec.right.describe : spec.right;
      const right = named === undefined ? 'standing in the organization' : `organization right ${named}`;
      const self = spec.selfOf ? ', or the principal itself' : '';
      const ceiling =
        spec.ceiling === 'credential'
          ? "; the credential it yields within the caller's effective rights and expiry (ceiling)"
          : spec.ceiling === 'role'
            ? "; every role it grants, changes or removes within the caller's effective rights (ceiling)"
            : '';
      return `${right}${self}${ceiling}${spec.note ? ` — ${spec.note}` : ''}`;
    }
  }
}

export function requireAuthenticated(ctx: RequestContext) {
  if (ctx.principal) return ctx.principal;
  throw new AuthenticationError(
    'missing',
    ctx.sessionExpired ? 'session expired or logged out: log in again' : 'authentication required: missing credentials',
  );
}

/** Whether the resolver runs: false when a nullable field answers null without it. */
async function enforce(spec: PermissionSpec, resolve: Resolve): Promise<boolean> {
  if (spec.kind === 'public') return true;
  const principal = requireAuthenticated(resolve.context);
  if (spec.kind === 'authenticated') return true;
  if (spec.kind === 'account') {
    if (!isAccountCredential(principal)) {
      throw forbidden('this operation needs a user signed in as themselves, not an organization-scoped token');
    }
    return true;
  }
  if (spec.kind === 'primary') {
    if (!isAccountCredential(principal) || (principal.credential !== CredentialKind.SESSION && principal.credential !== CredentialKind.USER_KEY)) {
      throw forbidden('this operation needs a session or the user key: a token cannot mint or replace longer-lived credentials');
    }
    return true;
  }
  if (spec.kind === 'own') {
    if (spec.ownerOf(resolve) !== principal.id) throw forbidden('only your own are listed here');
    if (!principal.scope) return true;
    if (!spec.scopedRight) throw forbidden('not through an organization-scoped token: sign in as yourself');
    const access = await resolve.context.access(principal.scope.organizationId);
    if (!access || !has(access.rights, spec.scopedRight)) throw forbidden(`missing right ${spec.scopedRight}`, { right: spec.scopedRight });
    return true;
  }
  if (spec.selfOf && spec.selfOf(resolve) === principal.id) return true;
  const organizationId = await spec.organizationOf(resolve);
  if (!organizationId && spec.orNull) return false;
  const access = organizationId ? await resolve.context.access(organizationId) : null;
  const right = typeof spec.right === 'object' ? spec.right.of(resolve) : spec.right;
  const allowed = access !== null && (!right || has(access.rights, right));
  if (allowed) return true;
  if (spec.orNull === 'when-denied') return false;
  if (!access) throw notFound(spec.resource);
  throw forbidden(`missing right ${right}`, { right });
}

/** Declares and enforces an operation's permission. */
export function Permission(spec: PermissionSpec): MethodDecorator {
  const middleware = createMethodMiddlewareDecorator<RequestContext>(async ({ args, root, context, info }, next) => {
    if (!(await enforce(spec, { args, root, context }))) return null;
    const result = await next();
    // A mutation may have changed roles, memberships or tokens: its payload, and any later
    // field of the operation, are authorized and loaded afresh.
    if (info.parentType.name === 'Mutation') context.forget();
    return result;
  });
  return (target, propertyKey, descriptor) => {
    const key = `${(target as { constructor: { name: string } }).constructor.name}.${String(propertyKey)}`;
    if (PERMISSIONS.has(key)) throw new Error(`permission declared twice for ${key}`);
    PERMISSIONS.set(key, spec);
    return middleware(target, propertyKey, descriptor);
  };
}

export const Public = () => Permission({ kind: 'public' });
export const Authenticated = () => Permission({ kind: 'authenticated' });
export const Account = () => Permission({ kind: 'account' });
export const Primary = () => Permission({ kind: 'primary' });
