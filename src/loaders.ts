import DataLoader from 'dataloader';
import { In, type DataSource } from 'typeorm';
import { isId } from './common/ids';
import { ApiTokenEntity } from './modules/api-tokens/api-token.entity';
import { MembershipEntity, MembershipStatus } from './modules/organizations/membership.entity';
import { OrganizationEntity } from './modules/organizations/organization.entity';
import { ServiceUserEntity } from './modules/service-users/service-user.entity';
import { UserEntity } from './modules/users/user.entity';

type MembershipKey = { organizationId: string; userId: string };

/** Ids in any case name the same row: keys are compared lower-cased, as PostgreSQL prints UUIDs. */
const membershipKey = (key: MembershipKey) => `${key.organizationId.toLowerCase()}:${key.userId.toLowerCase()}`;

function byId<T extends { id: string }>(rows: T[], ids: readonly string[]): (T | null)[] {
  const found = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => (typeof id === 'string' ? (found.get(id.toLowerCase()) ?? null) : null));
}

/** A key that is not a UUID can match nothing; keeping it out of the query keeps PostgreSQL from rejecting the batch. */
const validIds = (ids: readonly unknown[]) => In(ids.filter((id): id is string => typeof id === 'string' && isId(id)).map((id) => id.toLowerCase()));

/** Per-request loaders: one SQL statement per type per tick, results in key order. */
export function createLoaders(dataSource: DataSource) {
  const users = dataSource.getRepository(UserEntity);
  const organizations = dataSource.getRepository(OrganizationEntity);
  const memberships = dataSource.getRepository(MembershipEntity);
  const serviceUsers = dataSource.getRepository(ServiceUserEntity);
  const apiTokens = dataSource.getRepository(ApiTokenEntity);

  return {
    user: new DataLoader<string, UserEntity | null>(async (ids) => byId(await users.findBy({ id: validIds(ids) }), ids)),
    organization: new DataLoader<string, OrganizationEntity | null>(async (ids) =>
      byId(await organizations.findBy({ id: validIds(ids) }), ids),
    ),
    serviceUser: new DataLoader<string, ServiceUserEntity | null>(async (ids) =>
      byId(await serviceUsers.findBy({ id: validIds(ids) }), ids),
    ),
    apiToken: new DataLoader<string, ApiTokenEntity | null>(async (ids) => byId(await apiTokens.findBy({ id: validIds(ids) }), ids)),
    /** Every membership of a user, invitations included: decide standing with `activeMembershipOf` or `RequestContext.access`. */
    membershipsOfUser: new DataLoader<string, MembershipEntity[]>(async (userIds) => {
      const rows = await memberships.find({ where: { userId: In([...userIds]) }, order: { createdAt: 'ASC', id: 'ASC' } });
      return userIds.map((userId) => rows.filter((row) => row.userId === userId));
    }),
    /** The membership that grants its role: an invitation not yet accepted grants nothing. */
    activeMembershipOf: new DataLoader<MembershipKey, MembershipEntity | null, string>(
      async (keys) => {
        const rows = await memberships
          .createQueryBuilder('m')
          .where('(m.organizationId, m.userId) IN (SELECT * FROM unnest(CAST(:orgs AS uuid[]), CAST(:users AS uuid[])))', {
            orgs: keys.map((key) => key.organizationId),
            users: keys.map((key) => key.userId),
          })
          .andWhere('m.status = :active', { active: MembershipStatus.ACTIVE })
          .getMany();
        const found = new Map(rows.map((row) => [`${row.organizationId}:${row.userId}`, row]));
        return keys.map((key) => found.get(membershipKey(key)) ?? null);
      },
      { cacheKeyFn: membershipKey },
    ),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
