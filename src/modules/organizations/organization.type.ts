import { Directive, Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { OrganizationRole } from '../../auth/rights';
import { Connection } from '../../common/connection';
import { MembershipStatus, type MembershipEntity } from './membership.entity';

registerEnumType(MembershipStatus, {
  name: 'MembershipStatus',
  description: 'ACTIVE: a member. INVITED: added by someone else, not yet accepted; grants nothing until accepted.',
});
import type { OrganizationEntity } from './organization.entity';

@Directive('@key(fields: "id")')
@ObjectType('Organization')
export class OrganizationType {
  @Field(() => ID) id: string;
  @Field() name: string;
  @Field() slug: string;
  @Field() createdAt: Date;
}

export function toOrganizationType(organization: OrganizationEntity): OrganizationType {
  return { id: organization.id, name: organization.name, slug: organization.slug, createdAt: organization.createdAt };
}

@ObjectType('Membership')
export class MembershipType {
  @Field(() => ID) id: string;
  @Field(() => OrganizationRole) role: OrganizationRole;
  @Field(() => MembershipStatus) status: MembershipStatus;
  @Field() createdAt: Date;
  organizationId: string;
  userId: string;
}

export function toMembershipType(membership: MembershipEntity): MembershipType {
  return {
    id: membership.id,
    role: membership.role,
    status: membership.status,
    createdAt: membership.createdAt,
    organizationId: membership.organizationId,
    userId: membership.userId,
  };
}

@ObjectType()
export class MembershipConnection extends Connection(MembershipType, 'Membership') {}

@InputType()
export class CreateOrganizationInput {
  @Field() name: string;
  @Field(() => String, { nullable: true, description: 'Lowercase letters, digits and hyphens; made from the name when absent.' })
  slug?: string | null;
}

@ObjectType()
export class CreateOrganizationPayload {
  @Field(() => OrganizationType) organization: OrganizationType;
}

@InputType()
export class UpdateOrganizationInput {
  @Field(() => ID) id: string;
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => String, { nullable: true }) slug?: string | null;
}

@ObjectType()
export class UpdateOrganizationPayload {
  @Field(() => OrganizationType) organization: OrganizationType;
}

@InputType()
export class DeleteOrganizationInput {
  @Field(() => ID) id: string;
}

@ObjectType()
export class DeleteOrganizationPayload {
  @Field(() => ID) deletedOrganizationId: string;
}

@InputType()
export class AddMemberInput {
  @Field(() => ID) organizationId: string;
  @Field({ description: 'The email of an existing account, who is invited and becomes a member on accepting.' }) email: string;
  @Field(() => OrganizationRole) role: OrganizationRole;
}

@ObjectType()
export class AddMemberPayload {
  @Field(() => MembershipType, { description: 'INVITED until the person accepts.' }) membership: MembershipType;
}

@InputType()
export class AcceptMembershipInput {
  @Field(() => ID) organizationId: string;
}

@ObjectType()
export class AcceptMembershipPayload {
  @Field(() => MembershipType) membership: MembershipType;
}

@InputType()
export class DeclineMembershipInput {
  @Field(() => ID) organizationId: string;
}

@ObjectType()
export class DeclineMembershipPayload {
  @Field() ok: boolean;
}

@InputType()
export class UpdateMemberRoleInput {
  @Field(() => ID) organizationId: string;
  @Field(() => ID) userId: string;
  @Field(() => OrganizationRole) role: OrganizationRole;
}

@ObjectType()
export class UpdateMemberRolePayload {
  @Field(() => MembershipType) membership: MembershipType;
}

@InputType()
export class RemoveMemberInput {
  @Field(() => ID) organizationId: string;
  @Field(() => ID) userId: string;
}

@ObjectType()
export class RemoveMemberPayload {
  @Field(() => ID) removedUserId: string;
  /** Resolved by a field resolver, with the rights of `organization(id)`. */
  organizationId: string;
}
