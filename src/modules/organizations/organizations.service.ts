import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { OrganizationRole } from '../../auth/rights';
import { paginate, type Page, type PageArgs } from '../../common/pagination';
import type { RequestContext } from '../../context';
import { uniqueViolation } from '../../db/errors';
import { badInput, conflict } from '../../errors';
import { AuditEventType, type AuditService } from '../audit/audit.service';
import { checkName } from '../users/validation';
import { MembershipEntity, MembershipStatus } from './membership.entity';
import { lockForCaller } from './organization-lock';
import { OrganizationEntity } from './organization.entity';

const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;

export function checkSlug(raw: string): string {
  const slug = raw.trim();
  if (!SLUG.test(slug)) {
    throw badInput('slug', 'must be 1 to 64 lowercase letters, digits or hyphens, not starting or ending with a hyphen');
  }
  return slug;
}

export function slugFrom(name: string): string {
  const base = name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 55)
    .replace(/-+$/, '');
  return base || 'org';
}

export class OrganizationsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  /** The caller becomes its first OWNER. Without a slug, one is made from the name. */
  async create(ctx: RequestContext, input: { name: string; slug?: string | null }): Promise<OrganizationEntity> {
    const userId = ctx.principal!.id;
    const name = checkName('name', input.name, 200);
    const chosenSlug = input.slug === undefined || input.slug === null ? null : checkSlug(input.slug);
    for (let attempt = 0; ; attempt += 1) {
      const slug = chosenSlug ?? (attempt === 0 ? slugFrom(name) : `${slugFrom(name)}-${randomBytes(3).toString('hex')}`);
      try {
        return await this.dataSource.transaction(async (manager) => {
          const organization = await manager.save(manager.create(OrganizationEntity, { name, slug }));
          const owner = { organizationId: organization.id, userId, role: OrganizationRole.OWNER, status: MembershipStatus.ACTIVE };
          await manager.insert(MembershipEntity, owner);
          await this.audit.record(manager, ctx, {
            organizationId: organization.id,
            eventType: AuditEventType.ORGANIZATION_CREATED,
            targetType: 'organization',
            targetId: organization.id,
            changes: { name, slug },
          });
          return organization;
        });
      } catch (error) {
        if (uniqueViolation(error) !== 'UQ_organizations_slug') throw error;
        if (chosenSlug !== null || attempt >= 3) throw conflict('slug: an organization with this slug already exists');
      }
    }
  }

  async update(ctx: RequestContext, input: { id: string; name?: string | null; slug?: string | null }): Promise<OrganizationEntity> {
    const changes: Partial<Pick<OrganizationEntity, 'name' | 'slug'>> = {};
    if (input.name !== undefined && input.name !== null) changes.name = checkName('name', input.name, 200);
    if (input.slug !== undefined && input.slug !== null) changes.slug = checkSlug(input.slug);
    try {
      return await this.dataSource.transaction(async (manager) => {
        const { organization } = await lockForCaller(manager, ctx, input.id, 'organization.update');
        if (Object.keys(changes).length === 0) return organization;
        await manager.update(OrganizationEntity, { id: organization.id }, changes);
        await this.audit.record(manager, ctx, {
          organizationId: organization.id,
          eventType: AuditEventType.ORGANIZATION_UPDATED,
          targetType: 'organization',
          targetId: organization.id,
          changes,
        });
        return { ...organization, ...changes };
      });
    } catch (error) {
      if (uniqueViolation(error) === 'UQ_organizations_slug') throw conflict('slug: an organization with this slug already exists');
      throw error;
    }
  }

  /**
   * Everything of the organization goes with it (memberships, service users,
   * tokens, audit log). The caller's standing is read again under the lock,
   * so that an OWNER removed while the request ran cannot still delete it.
   */
  async delete(ctx: RequestContext, id: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const { organization } = await lockForCaller(manager, ctx, id, 'organization.delete');
      await manager.delete(OrganizationEntity, { id: organization.id });
    });
  }

  members(organizationId: string, args: PageArgs): Promise<Page<MembershipEntity>> {
    return paginate(
      this.dataSource.getRepository(MembershipEntity).createQueryBuilder('m').where('m.organizationId = :organizationId', { organizationId }),
      args,
    );
  }
}
