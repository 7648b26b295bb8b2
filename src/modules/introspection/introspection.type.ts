import { Field, ID, ObjectType } from 'type-graphql';
import { CredentialKind } from '../../auth/principal';
import { Rights } from '../../auth/rights.type';
import { PrincipalKind } from '../users/user.type';

@ObjectType('TokenIntrospection', { description: 'RFC 7662: for an invalid, expired, revoked or foreign token, only `active: false`.' })
export class TokenIntrospectionType {
  @Field() active: boolean;
  @Field(() => CredentialKind, { nullable: true }) kind?: CredentialKind;
  @Field(() => ID, { nullable: true, description: 'The user or service user the token acts as.' }) subject?: string;
  @Field(() => PrincipalKind, { nullable: true }) subjectKind?: PrincipalKind;
  @Field(() => ID, { nullable: true, description: 'The organization an API token is scoped to.' }) organizationId?: string | null;
  @Field(() => Rights, { nullable: true, description: 'The effective rights of an API token.' }) rights?: Rights | null;
  @Field(() => Date, { nullable: true }) expiresAt?: Date | null;
}
