import { createUnionType, Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Rights, RightsInput, toRights } from '../../auth/rights.type';
import { Connection } from '../../common/connection';
import { ServiceUserType } from '../service-users/service-user.type';
import { UserType } from '../users/user.type';
import type { ApiTokenEntity } from './api-token.entity';
import type { TokenExpirationPolicyEntity } from './token-expiration-policy.entity';

export const TokenOwner = createUnionType({
  name: 'TokenOwner',
  description: 'Who a token acts as: a user, or a service user of the organization.',
  types: () => [UserType, ServiceUserType] as const,
  resolveType: (value) => ('role' in value ? ServiceUserType : UserType),
});

export enum ApiTokenState {
  ACTIVE = 'ACTIVE',
  REVOKED = 'REVOKED',
  ALL = 'ALL',
}
registerEnumType(ApiTokenState, { name: 'ApiTokenState' });

@ObjectType('ApiToken', { description: 'An organization-scoped API token. The secret is shown once, in the payload that created or regenerated it.' })
export class ApiTokenType {
  @Field(() => ID) id: string;
  @Field() name: string;
  @Field(() => String, { nullable: true }) description: string | null;
  @Field({ description: 'The first 12 characters of the secret.' }) tokenPrefix: string;
  @Field(() => Rights, { description: 'The rights granted; at use they are further limited by the owner’s current role.' }) rights: Rights;
  @Field() createdAt: Date;
  @Field(() => Date, { nullable: true }) expiresAt: Date | null;
  @Field(() => Date, { nullable: true, description: 'Written in batches: may be a few seconds behind.' }) lastUsedAt: Date | null;
  @Field(() => [String], { description: 'The last distinct client addresses that used it, newest first (at most 5).' }) lastUsedFrom: string[];
  @Field({ description: 'Neither revoked nor expired.' }) isActive: boolean;
  @Field(() => Date, { nullable: true }) revokedAt: Date | null;
  @Field(() => String, { nullable: true, description: 'revoked, leaked, reuse_detected or member_removed.' }) revokedReason: string | null;
  organizationId: string;
  ownerUserId: string | null;
  ownerServiceUserId: string | null;
  createdById: string | null;
}

export function toApiTokenType(token: ApiTokenEntity, now = new Date()): ApiTokenType {
  return {
    id: token.id,
    name: token.name,
    description: token.description,
    tokenPrefix: token.tokenPrefix,
    rights: toRights(token.rights),
    createdAt: token.createdAt,
    expiresAt: token.expiresAt,
    lastUsedAt: token.lastUsedAt,
    lastUsedFrom: token.lastUsedAddresses,
    isActive: token.revokedAt === null && (token.expiresAt === null || token.expiresAt.getTime() > now.getTime()),
    revokedAt: token.revokedAt,
    revokedReason: token.revokedReason,
    organizationId: token.organizationId,
    ownerUserId: token.ownerUserId,
    ownerServiceUserId: token.ownerServiceUserId,
    createdById: token.createdById,
  };
}

@ObjectType()
export class ApiTokenConnection extends Connection(ApiTokenType, 'ApiToken') {}

@InputType()
export class CreateApiTokenInput {
  @Field(() => ID) organizationId: string;
  @Field({ description: 'At most 100 characters.' }) name: string;
  @Field(() => String, { nullable: true, description: 'At most 500 characters.' }) description?: string | null;
  @Field(() => RightsInput, { nullable: true, description: "Absent: the owner's rights. Never more than your own." }) rights?: RightsInput | null;
  @Field(() => Date, { nullable: true }) expiresAt?: Date | null;
  @Field(() => ID, { nullable: true, description: 'Make the token belong to this service user (OWNER and ADMIN only).' }) serviceUserId?: string | null;
}

@ObjectType()
export class CreateApiTokenPayload {
  @Field(() => ApiTokenType) apiToken: ApiTokenType;
  @Field({ description: 'The secret, shown this once: send it as `Authorization: Bearer <token>`.' }) token: string;
}

@InputType()
export class UpdateApiTokenInput {
  @Field(() => ID) id: string;
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => RightsInput, { nullable: true }) rights?: RightsInput | null;
  @Field(() => Date, { nullable: true, description: 'null removes the expiry (if the policy allows).' }) expiresAt?: Date | null;
}

@ObjectType()
export class UpdateApiTokenPayload {
  @Field(() => ApiTokenType) apiToken: ApiTokenType;
}

@InputType()
export class RegenerateApiTokenInput {
  @Field(() => ID) id: string;
  @Field(() => Int, { nullable: true, description: 'How long the old secret keeps working, 0 (default) to 604800 seconds.' })
  gracePeriodSeconds?: number | null;
}

@ObjectType()
export class RegenerateApiTokenPayload {
  @Field(() => ApiTokenType) apiToken: ApiTokenType;
  @Field({ description: 'The new secret, shown this once.' }) token: string;
}

@InputType()
export class RevokeApiTokenInput {
  @Field(() => ID) id: string;
}

@ObjectType()
export class RevokeApiTokenPayload {
  @Field(() => ApiTokenType) apiToken: ApiTokenType;
}

@InputType()
export class RevokeLeakedTokenInput {
  @Field() token: string;
}

@ObjectType()
export class RevokeLeakedTokenPayload {
  @Field({ description: 'Always true: the answer does not tell whether the token existed.' }) ok: boolean;
}

@ObjectType('TokenExpirationPolicy')
export class TokenExpirationPolicyType {
  @Field() requireExpiration: boolean;
  @Field(() => Int, { nullable: true }) maxLifetimeDays: number | null;
  @Field(() => Int, { nullable: true }) notifyDaysBeforeExpiry: number | null;
  @Field(() => Date, { nullable: true }) updatedAt: Date | null;
}

export function toPolicyType(policy: TokenExpirationPolicyEntity | null): TokenExpirationPolicyType {
  return policy
    ? { requireExpiration: policy.requireExpiration, maxLifetimeDays: policy.maxLifetimeDays, notifyDaysBeforeExpiry: policy.notifyDaysBeforeExpiry, updatedAt: policy.updatedAt }
    : { requireExpiration: false, maxLifetimeDays: null, notifyDaysBeforeExpiry: null, updatedAt: null };
}

@InputType()
export class SetTokenExpirationPolicyInput {
  @Field(() => ID) organizationId: string;
  @Field() requireExpiration: boolean;
  @Field(() => Int, { nullable: true }) maxLifetimeDays?: number | null;
  @Field(() => Int, { nullable: true }) notifyDaysBeforeExpiry?: number | null;
}

@ObjectType({ description: 'A live token that breaks the policy, and which rule.' })
export class NonCompliantToken {
  @Field(() => ApiTokenType) apiToken: ApiTokenType;
  @Field() rule: string;
  @Field() reason: string;
}

@ObjectType()
export class SetTokenExpirationPolicyPayload {
  @Field(() => TokenExpirationPolicyType) policy: TokenExpirationPolicyType;
  @Field(() => [NonCompliantToken], { description: 'Live tokens the new policy refuses from now on, among those the caller may read (apiTokens.read).' })
  nonCompliantTokens: NonCompliantToken[];
  @Field(() => Int, { description: 'How many live tokens the new policy refuses from now on, all of them.' })
  nonCompliantTokenCount: number;
}
