import { Arg, Ctx, Query, Resolver } from 'type-graphql';
import { Authenticated } from '../../auth/permission';
import { toRights } from '../../auth/rights.type';
import type { RequestContext } from '../../context';
import { PrincipalKind } from '../users/user.type';
import { TokenIntrospectionType } from './introspection.type';

@Resolver()
export class IntrospectionResolver {
  @Query(() => TokenIntrospectionType, { description: 'Introspects any credential kind (user key, API token, access token); needs introspection.read.' })
  @Authenticated()
  async introspectToken(@Arg('token') token: string, @Ctx() ctx: RequestContext): Promise<TokenIntrospectionType> {
    const result = await ctx.services.introspection.introspect(ctx, token);
    if (!result.active) return { active: false };
    return {
      active: true,
      kind: result.kind,
      subject: result.subject.id,
      subjectKind: result.subject.kind === 'USER' ? PrincipalKind.USER : PrincipalKind.SERVICE_USER,
      organizationId: result.organizationId,
      rights: result.rights === null ? null : toRights(result.rights),
      expiresAt: result.expiresAt,
    };
  }
}
