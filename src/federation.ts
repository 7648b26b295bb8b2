import { requireAuthenticated } from './auth/permission';
import { has } from './auth/rights';
import { isId } from './common/ids';
import type { RequestContext } from './context';
import { toOrganizationType, type OrganizationType } from './modules/organizations/organization.type';
import { toServiceUserType, type ServiceUserType } from './modules/service-users/service-user.type';
import { toUserType, type UserType } from './modules/users/user.type';

/**
 * Reference resolvers of the entities other subgraphs extend. They go through
 * the request's DataLoaders (a hundred representations cost one statement per
 * type and check) and apply the rules of the root fields: without a
 * credential they answer UNAUTHENTICATED, and an entity the caller could not
 * reach through a root query resolves to null.
 */
/** A representation comes from another subgraph, unchecked: anything but a UUID names nothing. */
const validKey = (id: unknown): id is string => typeof id === 'string' && isId(id);

export const referenceResolvers = {
  User: {
    async __resolveReference({ id }: { id: string }, ctx: RequestContext): Promise<UserType | null> {
      const principal = requireAuthenticated(ctx);
      if (!validKey(id)) return null;
      const user = await ctx.loaders.user.load(id);
      if (!user) return null;
      if (user.id === principal.id) return toUserType(user);
      // Another user is visible where the caller may read the members of an organization they share.
      const memberships = await ctx.loaders.membershipsOfUser.load(user.id);
      const accesses = await Promise.all(memberships.map((membership) => ctx.access(membership.organizationId)));
      return accesses.some((access) => access !== null && has(access.rights, 'members.read')) ? toUserType(user) : null;
    },
  },
  Organization: {
    async __resolveReference({ id }: { id: string }, ctx: RequestContext): Promise<OrganizationType | null> {
      requireAuthenticated(ctx);
      if (!validKey(id)) return null;
      const access = await ctx.access(id);
      if (!access || !has(access.rights, 'organization.read')) return null;
      const organization = await ctx.loaders.organization.load(id);
      return organization ? toOrganizationType(organization) : null;
    },
  },
  ServiceUser: {
    async __resolveReference({ id }: { id: string }, ctx: RequestContext): Promise<ServiceUserType | null> {
      requireAuthenticated(ctx);
      if (!validKey(id)) return null;
      const serviceUser = await ctx.loaders.serviceUser.load(id);
      if (!serviceUser) return null;
      const access = await ctx.access(serviceUser.organizationId);
      return access && has(access.rights, 'serviceUsers.read') ? toServiceUserType(serviceUser) : null;
    },
  },
};
