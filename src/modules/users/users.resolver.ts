import { Arg, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Authenticated, Primary, Public, requireAuthenticated } from '../../auth/permission';
import { has } from '../../auth/rights';
import { toRights } from '../../auth/rights.type';
import type { RequestContext } from '../../context';
import { MembershipType, toMembershipType } from '../organizations/organization.type';
import {
  LogInInput,
  LogInPayload,
  LogOutPayload,
  PrincipalKind,
  RegenerateUserKeyPayload,
  SignUpInput,
  SignUpPayload,
  toUserType,
  UserType,
  ViewerType,
} from './user.type';

@Resolver(() => UserType)
export class UsersResolver {
  @Query(() => UserType, { nullable: true, description: 'The user behind the credential; null for a service user.' })
  @Authenticated()
  me(@Ctx() ctx: RequestContext): UserType | null {
    const principal = requireAuthenticated(ctx);
    return principal.kind === 'USER' ? toUserType(principal.user) : null;
  }

  @Query(() => ViewerType, { description: 'Whoever is authenticated: user or service user, the credential used, and its rights.' })
  @Authenticated()
  async viewer(@Ctx() ctx: RequestContext): Promise<ViewerType> {
    const principal = requireAuthenticated(ctx);
    const scope = principal.scope;
    const access = scope ? await ctx.access(scope.organizationId) : null;
    return {
      id: principal.id,
      kind: principal.kind === 'USER' ? PrincipalKind.USER : PrincipalKind.SERVICE_USER,
      credential: principal.credential,
      user: principal.kind === 'USER' ? toUserType(principal.user) : null,
      organizationId: scope?.organizationId ?? null,
      rights: access ? toRights(access.rights) : null,
    };
  }

  @Mutation(() => SignUpPayload)
  @Public()
  async signUp(@Arg('input') input: SignUpInput, @Ctx() ctx: RequestContext): Promise<SignUpPayload> {
    const { user, userKey } = await ctx.services.users.signUp(ctx, input);
    return { user: toUserType(user), userKey };
  }

  @Mutation(() => LogInPayload, { description: 'Starts a browser session (an httpOnly cookie).' })
  @Public()
  async logIn(@Arg('input') input: LogInInput, @Ctx() ctx: RequestContext): Promise<LogInPayload> {
    return { user: toUserType(await ctx.services.users.logIn(ctx, input)) };
  }

  @Mutation(() => LogOutPayload, { description: 'Ends the browser session and clears its cookie; safe to call without one.' })
  @Public()
  async logOut(@Ctx() ctx: RequestContext): Promise<LogOutPayload> {
    await ctx.services.users.logOut(ctx);
    return { ok: true };
  }

  @Mutation(() => RegenerateUserKeyPayload)
  @Primary()
  async regenerateUserKey(@Ctx() ctx: RequestContext): Promise<RegenerateUserKeyPayload> {
    return { userKey: await ctx.services.users.regenerateUserKey(ctx) };
  }

  /**
   * Another user's memberships: those in organizations where the caller may
   * read the members. One's own: all of them, invitations included, or with
   * an organization-scoped token only its organization's, if it may read the
   * organization.
   */
  @FieldResolver(() => [MembershipType])
  @Authenticated()
  async memberships(@Root() user: UserType, @Ctx() ctx: RequestContext): Promise<MembershipType[]> {
    const principal = requireAuthenticated(ctx);
    const memberships = await ctx.loaders.membershipsOfUser.load(user.id);
    const own = principal.id === user.id;
    const visible = await Promise.all(
      memberships.map(async (membership) => {
        if (own && !principal.scope) return true;
        const access = await ctx.access(membership.organizationId);
        if (!access) return false;
        return own ? has(access.rights, 'organization.read') : has(access.rights, 'members.read');
      }),
    );
    return memberships.filter((_, index) => visible[index]).map(toMembershipType);
  }
}
