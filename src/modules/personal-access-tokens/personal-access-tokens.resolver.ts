import { Arg, Args, Ctx, FieldResolver, Mutation, Resolver, Root } from 'type-graphql';
import { Account, Permission, Primary, Public } from '../../auth/permission';
import { checkId } from '../../common/ids';
import { toConnection } from '../../common/connection';
import { PageArgs } from '../../common/pagination';
import type { RequestContext } from '../../context';
import { UserType } from '../users/user.type';
import {
  CreatePersonalAccessTokenInput,
  CreatePersonalAccessTokenPayload,
  PersonalAccessTokenConnection,
  RefreshAccessTokenInput,
  RefreshAccessTokenPayload,
  RevokePersonalAccessTokenInput,
  RevokePersonalAccessTokenPayload,
  toPersonalAccessTokenType,
  VerifyAccessTokenInput,
  VerifyAccessTokenPayload,
} from './personal-access-token.type';

@Resolver()
export class PersonalAccessTokensResolver {
  @Mutation(() => CreatePersonalAccessTokenPayload)
  @Primary()
  async createPersonalAccessToken(@Arg('input') input: CreatePersonalAccessTokenInput, @Ctx() ctx: RequestContext): Promise<CreatePersonalAccessTokenPayload> {
    const { pat, refresh } = await ctx.services.personalAccessTokens.create(ctx, input);
    return { personalAccessToken: toPersonalAccessTokenType(pat), refresh };
  }

  @Mutation(() => RevokePersonalAccessTokenPayload, { description: 'Its access tokens stop working at once.' })
  @Account()
  async revokePersonalAccessToken(@Arg('input') input: RevokePersonalAccessTokenInput, @Ctx() ctx: RequestContext): Promise<RevokePersonalAccessTokenPayload> {
    const pat = await ctx.services.personalAccessTokens.revoke(ctx, checkId('id', input.id));
    return { personalAccessToken: toPersonalAccessTokenType(pat) };
  }

  @Mutation(() => RefreshAccessTokenPayload, { description: 'Exchanges a personal access token for a short access token.' })
  @Public()
  async refreshAccessToken(@Arg('input') input: RefreshAccessTokenInput, @Ctx() ctx: RequestContext): Promise<RefreshAccessTokenPayload> {
    return ctx.services.personalAccessTokens.refresh(ctx.clientAddress, input.refresh);
  }

  @Mutation(() => VerifyAccessTokenPayload, { description: 'Whether an access token is valid now (signature, expiry and revocation of its PAT).' })
  @Public()
  async verifyAccessToken(@Arg('input') input: VerifyAccessTokenInput, @Ctx() ctx: RequestContext): Promise<VerifyAccessTokenPayload> {
    await ctx.services.rateLimits.consumeTokenEndpoint(ctx.clientAddress);
    const result = await ctx.services.credentials.accessTokens.verify(input.token);
    return result.ok ? { valid: true, reason: null } : { valid: false, reason: result.detail ?? result.message };
  }
}

@Resolver(() => UserType)
export class UserPersonalAccessTokensResolver {
  @FieldResolver(() => PersonalAccessTokenConnection, { description: 'Only on `me`.' })
  @Permission({ kind: 'own', ownerOf: ({ root }) => root.id, scopedRight: null })
  async personalAccessTokens(@Root() user: UserType, @Args() page: PageArgs, @Ctx() ctx: RequestContext): Promise<PersonalAccessTokenConnection> {
    return toConnection(await ctx.services.personalAccessTokens.list(user.id, page), (pat) => toPersonalAccessTokenType(pat));
  }
}
