import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { Connection } from '../../common/connection';
import type { PersonalAccessTokenEntity } from './personal-access-token.entity';

@ObjectType('PersonalAccessToken', { description: 'A long-lived token (a signed JWT) exchanged for short access tokens with refreshAccessToken.' })
export class PersonalAccessTokenType {
  @Field(() => ID) id: string;
  @Field() name: string;
  @Field() createdAt: Date;
  @Field(() => Date, { nullable: true }) expiresAt: Date | null;
  @Field(() => Date, { nullable: true, description: 'The last exchange for an access token.' }) lastUsedAt: Date | null;
  @Field(() => Date, { nullable: true }) revokedAt: Date | null;
  @Field() isActive: boolean;
}

export function toPersonalAccessTokenType(pat: PersonalAccessTokenEntity, now = new Date()): PersonalAccessTokenType {
  return {
    id: pat.id,
    name: pat.name,
    createdAt: pat.createdAt,
    expiresAt: pat.expiresAt,
    lastUsedAt: pat.lastUsedAt,
    revokedAt: pat.revokedAt,
    isActive: pat.revokedAt === null && (pat.expiresAt === null || pat.expiresAt.getTime() > now.getTime()),
  };
}

@ObjectType()
export class PersonalAccessTokenConnection extends Connection(PersonalAccessTokenType, 'PersonalAccessToken') {}

@InputType()
export class CreatePersonalAccessTokenInput {
  @Field() name: string;
  @Field(() => Date, { nullable: true, description: 'At most PAT_MAX_LIFETIME_DAYS ahead; absent: no expiry.' }) expiresAt?: Date | null;
}

@ObjectType()
export class CreatePersonalAccessTokenPayload {
  @Field(() => PersonalAccessTokenType) personalAccessToken: PersonalAccessTokenType;
  @Field({ description: 'The PAT itself, shown this once. Exchange it with refreshAccessToken; never send it as a credential.' }) refresh: string;
}

@InputType()
export class RevokePersonalAccessTokenInput {
  @Field(() => ID) id: string;
}

@ObjectType()
export class RevokePersonalAccessTokenPayload {
  @Field(() => PersonalAccessTokenType) personalAccessToken: PersonalAccessTokenType;
}

@InputType()
export class RefreshAccessTokenInput {
  @Field() refresh: string;
}

@ObjectType()
export class RefreshAccessTokenPayload {
  @Field({ description: 'Send it as `Authorization: Bearer <access>`.' }) access: string;
  @Field() expiresAt: Date;
}

@InputType()
export class VerifyAccessTokenInput {
  @Field() token: string;
}

@ObjectType()
export class VerifyAccessTokenPayload {
  @Field() valid: boolean;
  @Field(() => String, { nullable: true }) reason: string | null;
}
