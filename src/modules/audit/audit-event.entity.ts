import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { OrganizationEntity } from '../organizations/organization.entity';

/**
 * One lifecycle event. Actor and target are kept as plain ids (no foreign
 * keys): the log must outlive the users, tokens and bots it speaks of. It
 * goes with its organization, which is the only reader it has.
 */
@Entity('audit_events')
@Index('IDX_audit_events_organization_page', ['organizationId', 'createdAt', 'id'])
@Index('IDX_audit_events_organization_type', ['organizationId', 'eventType', 'createdAt'])
export class AuditEventEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid', nullable: true })
  organizationId: string | null;

  @ManyToOne(() => OrganizationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organizationId' })
  organization?: OrganizationEntity | null;

  @Column({ type: 'varchar', length: 64 })
  eventType: string;

  /** USER, SERVICE_USER, OPERATOR (the command line), SYSTEM or ANONYMOUS. */
  @Column({ type: 'varchar', length: 16 })
  actorKind: string;

  @Index('IDX_audit_events_actor')
  @Column({ type: 'uuid', nullable: true })
  actorId: string | null;

  /** The credential the actor used (session, user key, API token id...). */
  @Column({ type: 'varchar', length: 16, nullable: true })
  actorCredential: string | null;

  @Column({ type: 'uuid', nullable: true })
  actorTokenId: string | null;

  @Column({ type: 'varchar', length: 32, nullable: true })
  targetType: string | null;

  @Column({ type: 'uuid', nullable: true })
  targetId: string | null;

  @Column({ type: 'varchar', length: 45, nullable: true })
  clientAddress: string | null;

  @Column({ type: 'varchar', length: 512, nullable: true })
  userAgent: string | null;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  changes: Record<string, unknown>;

  @CreateDateColumn({ type: 'timestamptz', precision: 3 })
  createdAt: Date;
}
