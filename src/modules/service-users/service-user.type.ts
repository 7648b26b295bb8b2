import { Directive, Field, ID, InputType, ObjectType } from 'type-graphql';
import { OrganizationRole } from '../../auth/rights';
import { Connection } from '../../common/connection';
import type { PrincipalServiceUser } from '../../auth/principal';

@Directive('@key(fields: "id")')
@ObjectType('ServiceUser', { description: 'A bot account of one organization.' })
export class ServiceUserType {
  @Field(() => ID) id: string;
  @Field() name: string;
  @Field(() => OrganizationRole) role: OrganizationRole;
  @Field() createdAt: Date;
  organizationId: string;
  createdById: string | null;
}

export function toServiceUserType(serviceUser: PrincipalServiceUser): ServiceUserType {
  return {
    id: serviceUser.id,
    name: serviceUser.name,
    role: serviceUser.role,
    createdAt: serviceUser.createdAt,
    organizationId: serviceUser.organizationId,
    createdById: serviceUser.createdById,
  };
}

@ObjectType()
export class ServiceUserConnection extends Connection(ServiceUserType, 'ServiceUser') {}

@InputType()
export class CreateServiceUserInput {
  @Field(() => ID) organizationId: string;
  @Field() name: string;
  @Field(() => OrganizationRole, { description: 'At most your own role.' }) role: OrganizationRole;
}

@ObjectType()
export class CreateServiceUserPayload {
  @Field(() => ServiceUserType) serviceUser: ServiceUserType;
}

@InputType()
export class UpdateServiceUserInput {
  @Field(() => ID) id: string;
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => OrganizationRole, { nullable: true }) role?: OrganizationRole | null;
}

@ObjectType()
export class UpdateServiceUserPayload {
  @Field(() => ServiceUserType) serviceUser: ServiceUserType;
}

@InputType()
export class DeleteServiceUserInput {
  @Field(() => ID) id: string;
}

@ObjectType()
export class DeleteServiceUserPayload {
  @Field(() => ID) deletedServiceUserId: string;
}
