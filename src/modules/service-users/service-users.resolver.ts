import { Arg, Args, Ctx, FieldResolver, Mutation, Resolver, Root } from 'type-graphql';
import { Authenticated, Permission } from '../../auth/permission';
import { toConnection } from '../../common/connection';
import { PageArgs } from '../../common/pagination';
import type { RequestContext } from '../../context';
import { notFound } from '../../errors';
import { OrganizationType, toOrganizationType } from '../organizations/organization.type';
import { toUserType, UserType, ViewerType } from '../users/user.type';
import {
  CreateServiceUserInput,
  CreateServiceUserPayload,
  DeleteServiceUserInput,
  DeleteServiceUserPayload,
  ServiceUserConnection,
  ServiceUserType,
  toServiceUserType,
  UpdateServiceUserInput,
  UpdateServiceUserPayload,
} from './service-user.type';

/** The organization of the service user named by `input.id` (through the request's loader, so the service reuses the row). */
async function organizationOfServiceUser({ args, context }: { args: Record<string, any>; context: RequestContext }) {
  return (await context.loaders.serviceUser.load(args.input.id))?.organizationId;
}

@Resolver(() => ServiceUserType)
export class ServiceUsersResolver {
  @Mutation(() => CreateServiceUserPayload)
  @Permission({
    kind: 'organization',
    right: 'serviceUsers.create',
    resource: 'organization',
    organizationOf: ({ args }) => args.input.organizationId,
    ceiling: 'role',
  })
  async createServiceUser(@Arg('input') input: CreateServiceUserInput, @Ctx() ctx: RequestContext): Promise<CreateServiceUserPayload> {
    return { serviceUser: toServiceUserType(await ctx.services.serviceUsers.create(ctx, input)) };
  }

  @Mutation(() => UpdateServiceUserPayload)
  @Permission({ kind: 'organization', right: 'serviceUsers.update', resource: 'service user', organizationOf: organizationOfServiceUser, ceiling: 'role', note: 'its role now and the new one' })
  async updateServiceUser(@Arg('input') input: UpdateServiceUserInput, @Ctx() ctx: RequestContext): Promise<UpdateServiceUserPayload> {
    return { serviceUser: toServiceUserType(await ctx.services.serviceUsers.update(ctx, input)) };
  }

  @Mutation(() => DeleteServiceUserPayload, { description: 'Deletes the service user and revokes all its tokens.' })
  @Permission({ kind: 'organization', right: 'serviceUsers.delete', resource: 'service user', organizationOf: organizationOfServiceUser, ceiling: 'role', note: 'its role' })
  async deleteServiceUser(@Arg('input') input: DeleteServiceUserInput, @Ctx() ctx: RequestContext): Promise<DeleteServiceUserPayload> {
    return { deletedServiceUserId: (await ctx.services.serviceUsers.delete(ctx, input.id)).id };
  }

  @FieldResolver(() => OrganizationType)
  @Permission({ kind: 'organization', right: 'organization.read', resource: 'organization', organizationOf: ({ root }) => root.organizationId })
  async organization(@Root() serviceUser: ServiceUserType, @Ctx() ctx: RequestContext): Promise<OrganizationType> {
    const organization = await ctx.loaders.organization.load(serviceUser.organizationId);
    if (!organization) throw notFound('organization');
    return toOrganizationType(organization);
  }

  @FieldResolver(() => UserType, { nullable: true, description: 'Null once the creator’s account is gone.' })
  @Permission({ kind: 'organization', right: 'members.read', resource: 'organization', organizationOf: ({ root }) => root.organizationId })
  async createdBy(@Root() serviceUser: ServiceUserType, @Ctx() ctx: RequestContext): Promise<UserType | null> {
    const user = serviceUser.createdById ? await ctx.loaders.user.load(serviceUser.createdById) : null;
    return user ? toUserType(user) : null;
  }
}

@Resolver(() => OrganizationType)
export class OrganizationServiceUsersResolver {
  @FieldResolver(() => ServiceUserConnection)
  @Permission({ kind: 'organization', right: 'serviceUsers.read', resource: 'organization', organizationOf: ({ root }) => root.id })
  async serviceUsers(@Root() organization: OrganizationType, @Args() page: PageArgs, @Ctx() ctx: RequestContext): Promise<ServiceUserConnection> {
    return toConnection(await ctx.services.serviceUsers.list(organization.id, page), toServiceUserType);
  }
}

@Resolver(() => ViewerType)
export class ViewerServiceUserResolver {
  @FieldResolver(() => ServiceUserType, { nullable: true, description: 'The service user, when the principal is one.' })
  @Authenticated()
  serviceUser(@Root() viewer: ViewerType, @Ctx() ctx: RequestContext): ServiceUserType | null {
    const principal = ctx.principal;
    return principal?.kind === 'SERVICE_USER' && principal.id === viewer.id ? toServiceUserType(principal.serviceUser) : null;
  }
}
