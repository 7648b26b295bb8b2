import { Args, Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { Permission } from '../../auth/permission';
import { toConnection } from '../../common/connection';
import type { RequestContext } from '../../context';
import { OrganizationType } from '../organizations/organization.type';
import { AuditEventArgs, AuditEventConnection, toAuditEventType } from './audit-event.type';

@Resolver(() => OrganizationType)
export class OrganizationAuditResolver {
  @FieldResolver(() => AuditEventConnection, { description: 'Newest first; filter by event type or actor.' })
  @Permission({ kind: 'organization', right: 'auditLog.read', resource: 'organization', organizationOf: ({ root }) => root.id })
  async auditEvents(@Root() organization: OrganizationType, @Args() args: AuditEventArgs, @Ctx() ctx: RequestContext): Promise<AuditEventConnection> {
    return toConnection(await ctx.services.audit.list(organization.id, args), toAuditEventType);
  }
}
