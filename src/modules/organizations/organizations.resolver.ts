import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Account, Permission } from '../../auth/permission';
import { OrganizationRole } from '../../auth/rights';
import { Rights, toRights } from '../../auth/rights.type';
import { toConnection } from '../../common/connection';
import { checkId } from '../../common/ids';
import { PageArgs } from '../../common/pagination';
import type { RequestContext } from '../../context';
import { notFound } from '../../errors';
import { toUserType, UserType, ViewerType } from '../users/user.type';
import {
  AcceptMembershipInput,
  AcceptMembershipPayload,
  DeclineMembershipInput,
  DeclineMembershipPayload,
  AddMemberInput,
  AddMemberPayload,
  CreateOrganizationInput,
  CreateOrganizationPayload,
  DeleteOrganizationInput,
  DeleteOrganizationPayload,
  MembershipConnection,
  MembershipType,
  OrganizationType,
  RemoveMemberInput,
  RemoveMemberPayload,
  toMembershipType,
  toOrganizationType,
  UpdateMemberRoleInput,
  UpdateMemberRolePayload,
  UpdateOrganizationInput,
  UpdateOrganizationPayload,
} from './organization.type';

const ofInput = ({ args }: { args: Record<string, any> }) => args.input.organizationId as string;
const ofInputId = ({ args }: { args: Record<string, any> }) => args.input.id as string;
const ofRoot = ({ root }: { root: { id: string } }) => root.id;
const ofMembership = ({ root }: { root: { organizationId: string } }) => root.organizationId;
const ofMember = ({ root }: { root: { userId: string } }) => root.userId;

async function loadOrganization(ctx: RequestContext, id: string): Promise<OrganizationType> {
  const organization = await ctx.loaders.organization.load(id);
  if (!organization) throw notFound('organization');
  return toOrganizationType(organization);
}

@Resolver(() => OrganizationType)
export class OrganizationsResolver {
  @Query(() => OrganizationType, { description: 'An organization the caller belongs to; any other id is NOT_FOUND.' })
  @Permission({ kind: 'organization', right: 'organization.read', resource: 'organization', organizationOf: ({ args }) => args.id })
  organization(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext): Promise<OrganizationType> {
    return loadOrganization(ctx, id);
  }

  @Mutation(() => CreateOrganizationPayload, { description: 'The caller becomes its OWNER.' })
  @Account()
  async createOrganization(@Arg('input') input: CreateOrganizationInput, @Ctx() ctx: RequestContext): Promise<CreateOrganizationPayload> {
    return { organization: toOrganizationType(await ctx.services.organizations.create(ctx, input)) };
  }

  @Mutation(() => UpdateOrganizationPayload)
  @Permission({ kind: 'organization', right: 'organization.update', resource: 'organization', organizationOf: ofInputId })
  async updateOrganization(@Arg('input') input: UpdateOrganizationInput, @Ctx() ctx: RequestContext): Promise<UpdateOrganizationPayload> {
    return { organization: toOrganizationType(await ctx.services.organizations.update(ctx, input)) };
  }

  @Mutation(() => DeleteOrganizationPayload, { description: 'Deletes the organization with its members, service users, tokens and audit log.' })
  @Permission({ kind: 'organization', right: 'organization.delete', resource: 'organization', organizationOf: ofInputId })
  async deleteOrganization(@Arg('input') input: DeleteOrganizationInput, @Ctx() ctx: RequestContext): Promise<DeleteOrganizationPayload> {
    await ctx.services.organizations.delete(ctx, input.id);
    return { deletedOrganizationId: input.id };
  }

  @Mutation(() => AddMemberPayload, { description: 'Invites an existing account, by email: INVITED until they accept (acceptMembership).' })
  @Permission({
    kind: 'organization',
    right: 'members.create',
    resource: 'organization',
    organizationOf: ofInput,
    ceiling: 'role',
    note: 'limited per caller (ADD_MEMBER_RATE_LIMIT)',
  })
  async addMember(@Arg('input') input: AddMemberInput, @Ctx() ctx: RequestContext): Promise<AddMemberPayload> {
    return { membership: toMembershipType(await ctx.services.memberships.add(ctx, input)) };
  }

  @Mutation(() => AcceptMembershipPayload, { description: 'Accepts an invitation to the organization: the membership becomes ACTIVE.' })
  @Account()
  async acceptMembership(@Arg('input') input: AcceptMembershipInput, @Ctx() ctx: RequestContext): Promise<AcceptMembershipPayload> {
    const membership = await ctx.services.memberships.accept(ctx, checkId('organizationId', input.organizationId));
    return { membership: toMembershipType(membership) };
  }

  @Mutation(() => DeclineMembershipPayload, { description: 'Declines an invitation to the organization; it is deleted.' })
  @Account()
  async declineMembership(@Arg('input') input: DeclineMembershipInput, @Ctx() ctx: RequestContext): Promise<DeclineMembershipPayload> {
    await ctx.services.memberships.decline(ctx, checkId('organizationId', input.organizationId));
    return { ok: true };
  }

  @Mutation(() => UpdateMemberRolePayload)
  @Permission({
    kind: 'organization',
    right: 'members.update',
    resource: 'organization',
    organizationOf: ofInput,
    ceiling: 'role',
    note: 'the old role and the new; the last OWNER stays',
  })
  async updateMemberRole(@Arg('input') input: UpdateMemberRoleInput, @Ctx() ctx: RequestContext): Promise<UpdateMemberRolePayload> {
    const membership = await ctx.services.memberships.updateRole(ctx, { ...input, userId: checkId('userId', input.userId) });
    return { membership: toMembershipType(membership) };
  }

  @Mutation(() => RemoveMemberPayload, { description: 'Removes a member, or lets the caller leave.' })
  @Permission({
    kind: 'organization',
    resource: 'organization',
    organizationOf: ofInput,
    ceiling: 'role',
    note: "members.delete and the member's role, or leaving with an account credential; the last OWNER stays; revokes the member's tokens here",
  })
  async removeMember(@Arg('input') input: RemoveMemberInput, @Ctx() ctx: RequestContext): Promise<RemoveMemberPayload> {
    const membership = await ctx.services.memberships.remove(ctx, { ...input, userId: checkId('userId', input.userId) });
    return { removedUserId: membership.userId, organizationId: membership.organizationId };
  }

  @FieldResolver(() => MembershipConnection)
  @Permission({ kind: 'organization', right: 'members.read', resource: 'organization', organizationOf: ofRoot })
  async members(@Root() organization: OrganizationType, @Args() page: PageArgs, @Ctx() ctx: RequestContext): Promise<MembershipConnection> {
    return toConnection(await ctx.services.organizations.members(organization.id, page), toMembershipType);
  }

  @FieldResolver(() => OrganizationRole, { nullable: true, description: "The caller's role here; null without one (an invitation not yet accepted)." })
  @Permission({ kind: 'organization', resource: 'organization', organizationOf: ofRoot, orNull: 'when-denied' })
  async viewerRole(@Root() organization: OrganizationType, @Ctx() ctx: RequestContext): Promise<OrganizationRole> {
    return (await ctx.access(organization.id))!.role;
  }

  @FieldResolver(() => Rights, {
    nullable: true,
    description: "What the caller may do here (a token's rights are already intersected with its owner's role); null without a role here.",
  })
  @Permission({ kind: 'organization', resource: 'organization', organizationOf: ofRoot, orNull: 'when-denied' })
  async viewerRights(@Root() organization: OrganizationType, @Ctx() ctx: RequestContext): Promise<Rights> {
    return toRights((await ctx.access(organization.id))!.rights);
  }
}

@Resolver(() => MembershipType)
export class MembershipsResolver {
  @FieldResolver(() => UserType)
  @Permission({ kind: 'organization', right: 'members.read', resource: 'member', organizationOf: ofMembership, selfOf: ofMember })
  async user(@Root() membership: MembershipType, @Ctx() ctx: RequestContext): Promise<UserType> {
    const user = await ctx.loaders.user.load(membership.userId);
    if (!user) throw notFound('user');
    return toUserType(user);
  }

  @FieldResolver(() => OrganizationType, { description: "Also shown to the member invited: an invitation names the organization it is to." })
  @Permission({ kind: 'organization', right: 'organization.read', resource: 'organization', organizationOf: ofMembership, selfOf: ofMember })
  organization(@Root() membership: MembershipType, @Ctx() ctx: RequestContext): Promise<OrganizationType> {
    return loadOrganization(ctx, membership.organizationId);
  }
}

@Resolver(() => RemoveMemberPayload)
export class RemoveMemberPayloadResolver {
  @FieldResolver(() => OrganizationType, {
    nullable: true,
    description: 'The organization, where the caller may still read it (null after leaving).',
  })
  @Permission({ kind: 'organization', right: 'organization.read', resource: 'organization', organizationOf: ofMembership, orNull: 'when-denied' })
  organization(@Root() payload: RemoveMemberPayload, @Ctx() ctx: RequestContext): Promise<OrganizationType> {
    return loadOrganization(ctx, payload.organizationId);
  }
}

@Resolver(() => ViewerType)
export class ViewerOrganizationResolver {
  @FieldResolver(() => OrganizationType, {
    nullable: true,
    description: 'The organization an org-scoped credential is limited to (needs organization.read).',
  })
  @Permission({
    kind: 'organization',
    right: 'organization.read',
    resource: 'organization',
    organizationOf: ({ root }) => root.organizationId,
    orNull: 'without-organization',
  })
  async organization(@Root() viewer: ViewerType, @Ctx() ctx: RequestContext): Promise<OrganizationType | null> {
    return loadOrganization(ctx, viewer.organizationId!);
  }
}
