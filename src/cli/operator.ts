import os from 'node:os';
import type { DataSource } from 'typeorm';
import { CredentialKind, type ServiceUserPrincipal } from '../auth/principal';
import { ALL_RIGHTS, OrganizationRole, rightSet, ROLE_TABLE } from '../auth/rights';
import type { RateLimits } from '../common/rate-limits';
import type { RequestContext } from '../context';
import { createLoaders } from '../loaders';
import { createLogger } from '../logger';
import { AuditService } from '../modules/audit/audit.service';
import type { Services } from '../services';

/** The nil UUID: the operator is no row of any table, and ids compared with it match nothing. */
const NOBODY = '00000000-0000-0000-0000-000000000000';

/** Names the OS user who ran the command, in the audit event's user agent. */
export function operatorUserAgent(): string {
  let user = 'unknown';
  try {
    user = os.userInfo().username;
  } catch {
    // no passwd entry for this uid (some containers)
  }
  return `idgraph-cli (os user ${user})`.slice(0, 512);
}

/** An operator with the database's credentials can do anything anyway; the per-principal issuing limit is for API callers. */
export const operatorRateLimits = { consumeTokenIssue: async () => undefined } as unknown as RateLimits;

/**
 * The context the services' methods take, for an operator at the command
 * line: OWNER-level access to every organization (the services' own rules
 * still apply, among them a token's ceiling of its owner's role), and
 * `operator: true`, so that audit events name an OPERATOR as their actor.
 */
export function operatorContext(dataSource: DataSource): RequestContext {
  const loaders = createLoaders(dataSource);
  const owner = ROLE_TABLE[OrganizationRole.OWNER];
  const principal: ServiceUserPrincipal = {
    kind: 'SERVICE_USER',
    id: NOBODY,
    serviceUser: { id: NOBODY, name: 'operator', role: OrganizationRole.OWNER, organizationId: NOBODY, createdById: null, createdAt: new Date() },
    credential: CredentialKind.API_TOKEN,
    scope: { organizationId: NOBODY, tokenId: NOBODY, rights: rightSet(ALL_RIGHTS), role: OrganizationRole.OWNER },
  };
  const context: RequestContext = {
    requestId: 'cli',
    principal,
    sessionExpired: false,
    clientAddress: '',
    userAgent: operatorUserAgent(),
    operator: true,
    log: createLogger('silent'),
    loaders,
    // Only resolvers read the services from the context; the command line calls the services directly.
    services: {} as Services,
    cookies: { set: () => undefined, clear: () => undefined },
    sessionCookie: undefined,
    access: async (organizationId) => ({ organizationId: organizationId.toLowerCase(), role: OrganizationRole.OWNER, rights: owner.rights, tokenScope: owner.tokenScope }),
    forget: () => {
      for (const loader of Object.values(loaders)) loader.clearAll();
    },
  };
  return context;
}

export function operatorAudit(dataSource: DataSource): AuditService {
  return new AuditService(dataSource);
}
