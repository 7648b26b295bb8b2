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
  | {
      kind: 'organization';
      /** Absent: any standing in the organization; the service applies the finer rule (see `note`). */
      right?: Right;
      /** What is not found when the organization cannot be reached ("organization", "service user"...). */
      resource: string;
      organizationOf: (resolve: Resolve) => Promise<string | null | undefined> | string | null | undefined;
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
    case 'organization':
      return `${spec.right ? `organization right ${spec.right}` : 'standing in the organization'}${spec.note ? ` — ${spec.note}` : ''}`;
  }
}

export function requireAuthenticated(ctx: RequestContext) {
  if (ctx.principal) return ctx.principal;
  throw new AuthenticationError(
    'missing',
    ctx.sessionExpired ? 'session expired or logged out: log in again' : 'authentication required: missing credentials',
  );
}

async function enforce(spec: PermissionSpec, resolve: Resolve): Promise<void> {
  if (spec.kind === 'public') return;
  const principal = requireAuthenticated(resolve.context);
  if (spec.kind === 'authenticated') return;
  if (spec.kind === 'account') {
    if (!isAccountCredential(principal)) {
      throw forbidden('this operation needs a user signed in as themselves, not an organization-scoped token');
    }
    return;
  }
  if (spec.kind === 'primary') {
    if (!isAccountCredential(principal) || (principal.credential !== CredentialKind.SESSION && principal.credential !== CredentialKind.USER_KEY)) {
      throw forbidden('this operation needs a session or the user key: a token cannot mint or replace longer-lived credentials');
    }
    return;
  }
  const organizationId = await spec.organizationOf(resolve);
  const access = organizationId ? await resolve.context.access(organizationId) : null;
  if (!access) throw notFound(spec.resource);
  if (spec.right && !has(access.rights, spec.right)) {
    throw forbidden(`missing right ${spec.right}`, { right: spec.right });
  }
}

/** Declares and enforces an operation's permission. */
export function Permission(spec: PermissionSpec): MethodDecorator {
  const middleware = createMethodMiddlewareDecorator<RequestContext>(async ({ args, root, context, info }, next) => {
    await enforce(spec, { args, root, context });
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
