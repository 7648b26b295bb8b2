import { GraphQLJSONObject } from 'graphql-scalars';
import { ArgsType, Field, ID, ObjectType } from 'type-graphql';
import { Connection } from '../../common/connection';
import { PageArgs } from '../../common/pagination';
import type { AuditEventEntity } from './audit-event.entity';

@ObjectType('AuditEvent', { description: 'One lifecycle event: who, when, from where, and what changed (never a secret).' })
export class AuditEventType {
  @Field(() => ID) id: string;
  @Field({ description: 'For example api_token.created, member.role_changed.' }) eventType: string;
  @Field({ description: 'USER, SERVICE_USER, OPERATOR (an operator at the idgraph command line), SYSTEM or ANONYMOUS.' }) actorKind: string;
  @Field(() => ID, { nullable: true }) actorId: string | null;
  @Field(() => String, { nullable: true, description: 'The credential the actor used.' }) actorCredential: string | null;
  @Field(() => ID, { nullable: true, description: 'The API token the actor used, if any.' }) actorTokenId: string | null;
  @Field(() => String, { nullable: true }) targetType: string | null;
  @Field(() => ID, { nullable: true }) targetId: string | null;
  @Field(() => String, { nullable: true }) clientAddress: string | null;
  @Field(() => String, { nullable: true }) userAgent: string | null;
  @Field(() => GraphQLJSONObject) changes: Record<string, unknown>;
  @Field() createdAt: Date;
}

export function toAuditEventType(event: AuditEventEntity): AuditEventType {
  return {
    id: event.id,
    eventType: event.eventType,
    actorKind: event.actorKind,
    actorId: event.actorId,
    actorCredential: event.actorCredential,
    actorTokenId: event.actorTokenId,
    targetType: event.targetType,
    targetId: event.targetId,
    clientAddress: event.clientAddress,
    userAgent: event.userAgent,
    changes: event.changes,
    createdAt: event.createdAt,
  };
}

@ObjectType()
export class AuditEventConnection extends Connection(AuditEventType, 'AuditEvent') {}

@ArgsType()
export class AuditEventArgs extends PageArgs {
  @Field(() => String, { nullable: true }) eventType?: string | null;
  @Field(() => ID, { nullable: true }) actorId?: string | null;
}
