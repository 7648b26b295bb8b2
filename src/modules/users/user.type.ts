import { Directive, Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { CredentialKind } from '../../auth/principal';
import { Rights } from '../../auth/rights.type';
import type { PrincipalUser } from '../../auth/principal';

registerEnumType(CredentialKind, { name: 'CredentialKind', description: 'How the principal authenticated.' });

export enum PrincipalKind {
  USER = 'USER',
  SERVICE_USER = 'SERVICE_USER',
}
registerEnumType(PrincipalKind, { name: 'PrincipalKind' });

@Directive('@key(fields: "id")')
@ObjectType('User')
export class UserType {
  @Field(() => ID) id: string;
  @Field() email: string;
  @Field() name: string;
  @Field() isActive: boolean;
  @Field() createdAt: Date;
}

export function toUserType(user: PrincipalUser): UserType {
  return { id: user.id, email: user.email, name: user.name, isActive: user.isActive, createdAt: user.createdAt };
}

@ObjectType('Viewer', { description: 'Whoever is authenticated, and how.' })
export class ViewerType {
  @Field(() => ID, { description: 'The id of the user or service user.' }) id: string;
  @Field(() => PrincipalKind) kind: PrincipalKind;
  @Field(() => CredentialKind) credential: CredentialKind;
  @Field(() => UserType, { nullable: true }) user: UserType | null;
  /** Resolved by a field resolver: the scope of an org-scoped credential. */
  organizationId: string | null;
  @Field(() => Rights, { nullable: true, description: 'The effective rights of an organization-scoped credential; null for account credentials, whose rights depend on the organization.' })
  rights: Rights | null;
}

@InputType()
export class SignUpInput {
  @Field() email: string;
  @Field() password: string;
  @Field() name: string;
}

@ObjectType()
export class SignUpPayload {
  @Field(() => UserType) user: UserType;
  @Field({ description: 'The user key, shown this once: send it as `Authorization: Token <key>`.' }) userKey: string;
}

@InputType()
export class LogInInput {
  @Field() email: string;
  @Field() password: string;
}

@ObjectType()
export class LogInPayload {
  @Field(() => UserType) user: UserType;
}

@ObjectType()
export class LogOutPayload {
  @Field() ok: boolean;
}

@ObjectType()
export class RegenerateUserKeyPayload {
  @Field({ description: 'The new user key, shown this once; the old one no longer works.' }) userKey: string;
}
