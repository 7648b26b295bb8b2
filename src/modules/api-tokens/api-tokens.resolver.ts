import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Permission, Public, type PermissionSpec } from '../../auth/permission';
import { fromRightsInput } from '../../auth/rights.type';
import { toConnection } from '../../common/connection';
import { PageArgs } from '../../common/pagination';
import type { RequestContext } from '../../context';
import { notFound } from '../../errors';
import { OrganizationType, toOrganizationType } from '../organizations/organization.type';
import { toServiceUserType } from '../service-users/service-user.type';
import { toUserType, UserType } from '../users/user.type';
import {
  ApiTokenConnection,
  ApiTokenState,
  ApiTokenType,
  CreateApiTokenInput,
  CreateApiTokenPayload,
  RegenerateApiTokenInput,
  RegenerateApiTokenPayload,
  RevokeApiTokenInput,
  RevokeApiTokenPayload,
  RevokeLeakedTokenInput,
  RevokeLeakedTokenPayload,
  SetTokenExpirationPolicyInput,
  SetTokenExpirationPolicyPayload,
  toApiTokenType,
  TokenExpirationPolicyType,
  TokenOwner,
  toPolicyType,
  UpdateApiTokenInput,
  UpdateApiTokenPayload,
} from './api-token.type';
import { canRead } from './api-tokens.service';

/** The organization of the token named by `id` or `input.id`, through the request's loader. */
async function organizationOfToken({ args, context }: { args: Record<string, any>; context: RequestContext }) {
  return (await context.loaders.apiToken.load(args.input?.id ?? args.id))?.organizationId;
}

/**
 * Changing a token needs to see it first (a token the caller cannot see is
 * NOT_FOUND whatever their rights); the service then requires the right of
 * the change, and the ceiling bounds what the token becomes.
 */
const changesToken = (note: string): PermissionSpec => ({
  kind: 'organization',
  right: 'apiTokens.read',
  resource: 'API token',
  organizationOf: organizationOfToken,
  ceiling: 'credential',
  note,
});

@ArgsType()
class ApiTokenListArgs extends PageArgs {
  @Field(() => ID, { nullable: true }) ownerUserId?: string | null;
  @Field(() => ID, { nullable: true }) ownerServiceUserId?: string | null;
  @Field(() => ApiTokenState, { nullable: true, description: 'ALL when absent.' }) state?: ApiTokenState | null;
}

@Resolver(() => ApiTokenType)
export class ApiTokensResolver {
  @Query(() => ApiTokenType, { description: 'A token the caller may see: OWNER and ADMIN see all of the organization’s, others their own.' })
  @Permission({ kind: 'organization', right: 'apiTokens.read', resource: 'API token', organizationOf: organizationOfToken, note: 'own tokens only below ADMIN' })
  async apiToken(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext): Promise<ApiTokenType> {
    return toApiTokenType(await ctx.services.apiTokens.get(ctx, id));
  }

  @Mutation(() => CreateApiTokenPayload)
  @Permission({
    kind: 'organization',
    right: 'apiTokens.create',
    resource: 'organization',
    organizationOf: ({ args }) => args.input.organizationId,
    ceiling: 'credential',
    note: 'serviceUserId only for OWNER/ADMIN; not with an access token',
  })
  async createApiToken(@Arg('input') input: CreateApiTokenInput, @Ctx() ctx: RequestContext): Promise<CreateApiTokenPayload> {
    const { token, secret } = await ctx.services.apiTokens.create(ctx, {
      ...input,
      rights: input.rights ? fromRightsInput(input.rights) : null,
    });
    return { apiToken: toApiTokenType(token), token: secret };
  }

  @Mutation(() => UpdateApiTokenPayload, { description: 'Changes what a token is and may do; never its secret.' })
  @Permission(changesToken('then apiTokens.update on a token the caller can see'))
  async updateApiToken(@Arg('input') input: UpdateApiTokenInput, @Ctx() ctx: RequestContext): Promise<UpdateApiTokenPayload> {
    const token = await ctx.services.apiTokens.update(ctx, { ...input, rights: input.rights ? fromRightsInput(input.rights) : null });
    return { apiToken: toApiTokenType(token) };
  }

  @Mutation(() => RegenerateApiTokenPayload, { description: 'A new secret for the same token; the old one stops now, or after gracePeriodSeconds.' })
  @Permission(
    changesToken("then apiTokens.update on the caller's own token or a service user's; a grace period over 1 h also apiTokens.delete; not with an access token"),
  )
  async regenerateApiToken(@Arg('input') input: RegenerateApiTokenInput, @Ctx() ctx: RequestContext): Promise<RegenerateApiTokenPayload> {
    const { token, secret } = await ctx.services.apiTokens.regenerate(ctx, input);
    return { apiToken: toApiTokenType(token), token: secret };
  }

  @Mutation(() => RevokeApiTokenPayload, { description: 'Immediate and permanent, on every instance.' })
  @Permission({ kind: 'organization', right: 'apiTokens.read', resource: 'API token', organizationOf: organizationOfToken, note: 'then apiTokens.delete on a token the caller can see' })
  async revokeApiToken(@Arg('input') input: RevokeApiTokenInput, @Ctx() ctx: RequestContext): Promise<RevokeApiTokenPayload> {
    return { apiToken: toApiTokenType(await ctx.services.apiTokens.revoke(ctx, input.id)) };
  }

  @Mutation(() => RevokeLeakedTokenPayload, { description: 'Whoever holds a leaked secret may kill it. Always answers ok.' })
  @Public()
  async revokeLeakedToken(@Arg('input') input: RevokeLeakedTokenInput, @Ctx() ctx: RequestContext): Promise<RevokeLeakedTokenPayload> {
    await ctx.services.apiTokens.revokeLeaked(ctx, input.token);
    return { ok: true };
  }

  @Mutation(() => SetTokenExpirationPolicyPayload)
  @Permission({ kind: 'organization', right: 'organization.update', resource: 'organization', organizationOf: ({ args }) => args.input.organizationId })
  async setTokenExpirationPolicy(@Arg('input') input: SetTokenExpirationPolicyInput, @Ctx() ctx: RequestContext): Promise<SetTokenExpirationPolicyPayload> {
    const { policy, nonCompliant } = await ctx.services.tokenPolicies.set(ctx, input);
    // The report shows what the caller could list anyway: organization.update alone reads no token.
    const access = (await ctx.access(input.organizationId))!;
    const readable = nonCompliant.filter(({ token }) => canRead(access, ctx.principal!, token));
    return {
      policy: toPolicyType(policy),
      nonCompliantTokens: readable.map(({ token, rule, reason }) => ({ apiToken: toApiTokenType(token), rule, reason })),
      nonCompliantTokenCount: nonCompliant.length,
    };
  }

  @FieldResolver(() => OrganizationType)
  @Permission({ kind: 'organization', right: 'organization.read', resource: 'organization', organizationOf: ({ root }) => root.organizationId })
  async organization(@Root() token: ApiTokenType, @Ctx() ctx: RequestContext): Promise<OrganizationType> {
    const organization = await ctx.loaders.organization.load(token.organizationId);
    if (!organization) throw notFound('organization');
    return toOrganizationType(organization);
  }

  @FieldResolver(() => TokenOwner)
  @Permission({
    kind: 'organization',
    right: { of: ({ root }) => (root.ownerServiceUserId ? 'serviceUsers.read' : 'members.read'), describe: 'members.read, or serviceUsers.read for a service user' },
    resource: 'organization',
    organizationOf: ({ root }) => root.organizationId,
    selfOf: ({ root }) => root.ownerUserId ?? root.ownerServiceUserId,
  })
  async owner(@Root() token: ApiTokenType, @Ctx() ctx: RequestContext): Promise<typeof TokenOwner> {
    if (token.ownerServiceUserId) {
      const serviceUser = await ctx.loaders.serviceUser.load(token.ownerServiceUserId);
      if (!serviceUser) throw notFound('service user');
      return toServiceUserType(serviceUser);
    }
    const user = await ctx.loaders.user.load(token.ownerUserId!);
    if (!user) throw notFound('user');
    return toUserType(user);
  }

  @FieldResolver(() => UserType, { nullable: true, description: 'Null once the creator’s account is gone, or when a service user created it.' })
  @Permission({ kind: 'organization', right: 'members.read', resource: 'organization', organizationOf: ({ root }) => root.organizationId, selfOf: ({ root }) => root.createdById })
  async createdBy(@Root() token: ApiTokenType, @Ctx() ctx: RequestContext): Promise<UserType | null> {
    const user = token.createdById ? await ctx.loaders.user.load(token.createdById) : null;
    return user ? toUserType(user) : null;
  }
}

@Resolver(() => OrganizationType)
export class OrganizationApiTokensResolver {
  @FieldResolver(() => ApiTokenConnection, { description: 'OWNER and ADMIN see every token; others their own.' })
  @Permission({ kind: 'organization', right: 'apiTokens.read', resource: 'organization', organizationOf: ({ root }) => root.id, note: 'own tokens only below ADMIN' })
  async apiTokens(@Root() organization: OrganizationType, @Args() args: ApiTokenListArgs, @Ctx() ctx: RequestContext): Promise<ApiTokenConnection> {
    const page = await ctx.services.apiTokens.list(ctx, organization.id, args, args);
    return toConnection(page, (token) => toApiTokenType(token));
  }

  @FieldResolver(() => TokenExpirationPolicyType)
  @Permission({ kind: 'organization', right: 'organization.read', resource: 'organization', organizationOf: ({ root }) => root.id })
  async tokenExpirationPolicy(@Root() organization: OrganizationType, @Ctx() ctx: RequestContext): Promise<TokenExpirationPolicyType> {
    return toPolicyType(await ctx.services.tokenPolicies.get(organization.id));
  }
}

@Resolver(() => UserType)
export class UserApiTokensResolver {
  @FieldResolver(() => ApiTokenConnection, { description: 'The user’s own API tokens across organizations (only on `me`).' })
  @Permission({ kind: 'own', ownerOf: ({ root }) => root.id, scopedRight: 'apiTokens.read' })
  async apiTokens(@Root() user: UserType, @Args() page: PageArgs, @Ctx() ctx: RequestContext): Promise<ApiTokenConnection> {
    return toConnection(await ctx.services.apiTokens.listOfUser(ctx, user.id, page), (token) => toApiTokenType(token));
  }
}
