import { Field, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { ACTIONS, bitOf, NO_RIGHTS, OrganizationRole, RESOURCES, type Action, type Resource, type RightSet } from './rights';

registerEnumType(OrganizationRole, { name: 'OrganizationRole', description: 'A role in an organization; see the README for what each may do.' });

@ObjectType({ description: 'Which actions are allowed on one resource.' })
export class ActionSet {
  @Field() read: boolean;
  @Field() create: boolean;
  @Field() update: boolean;
  @Field() delete: boolean;
}

@ObjectType({ description: 'Typed rights: resources x actions.' })
export class Rights {
  @Field(() => ActionSet) organization: ActionSet;
  @Field(() => ActionSet) members: ActionSet;
  @Field(() => ActionSet) serviceUsers: ActionSet;
  @Field(() => ActionSet) apiTokens: ActionSet;
  @Field(() => ActionSet) auditLog: ActionSet;
  @Field(() => ActionSet, { description: 'read: may call introspectToken about this organization’s tokens and members.' }) introspection: ActionSet;
}

@InputType({ description: 'A missing action means false.' })
export class ActionSetInput {
  @Field({ nullable: true }) read?: boolean;
  @Field({ nullable: true }) create?: boolean;
  @Field({ nullable: true }) update?: boolean;
  @Field({ nullable: true }) delete?: boolean;
}

@InputType({ description: 'A missing resource means no rights on it.' })
export class RightsInput {
  @Field(() => ActionSetInput, { nullable: true }) organization?: ActionSetInput;
  @Field(() => ActionSetInput, { nullable: true }) members?: ActionSetInput;
  @Field(() => ActionSetInput, { nullable: true }) serviceUsers?: ActionSetInput;
  @Field(() => ActionSetInput, { nullable: true }) apiTokens?: ActionSetInput;
  @Field(() => ActionSetInput, { nullable: true }) auditLog?: ActionSetInput;
  @Field(() => ActionSetInput, { nullable: true }) introspection?: ActionSetInput;
}

export function toRights(set: RightSet): Rights {
  const rights = {} as Record<Resource, ActionSet>;
  for (const resource of RESOURCES) {
    const actions = {} as Record<Action, boolean>;
    for (const action of ACTIONS) actions[action] = (set & bitOf(`${resource}.${action}`)) !== 0;
    rights[resource] = actions;
  }
  return rights;
}

export function fromRightsInput(input: RightsInput): RightSet {
  let set = NO_RIGHTS;
  for (const resource of RESOURCES) {
    const actions = input[resource];
    for (const action of ACTIONS) if (actions?.[action]) set |= bitOf(`${resource}.${action}`);
  }
  return set;
}
