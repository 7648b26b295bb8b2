import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique, UpdateDateColumn } from 'typeorm';
import { OrganizationRole } from '../../auth/rights';
import { ServiceUserEntity } from '../service-users/service-user.entity';
import { UserEntity } from '../users/user.entity';
import { OrganizationEntity } from './organization.entity';

/** INVITED: added by someone else and not yet accepted; grants nothing until the person accepts. */
export enum MembershipStatus {
  ACTIVE = 'ACTIVE',
  INVITED = 'INVITED',
}

@Entity('memberships')
@Unique('UQ_memberships_organization_user', ['organizationId', 'userId'])
@Index('IDX_memberships_organization_page', ['organizationId', 'createdAt', 'id'])
export class MembershipEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid' })
  organizationId: string;

  @ManyToOne(() => OrganizationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organizationId' })
  organization?: OrganizationEntity;

  @Index('IDX_memberships_user')
  @Column({ type: 'uuid' })
  userId: string;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'userId' })
  user?: UserEntity;

  @Column({ type: 'enum', enum: OrganizationRole, enumName: 'organization_role' })
  role: OrganizationRole;

  @Column({ type: 'enum', enum: MembershipStatus, enumName: 'membership_status', default: MembershipStatus.ACTIVE })
  status: MembershipStatus;

  /** The user who invited the member (null for an organization's creator, a service user's invitation, or once that account is gone). */
  @Index('IDX_memberships_invited_by')
  @Column({ type: 'uuid', nullable: true })
  invitedById: string | null;

  @ManyToOne(() => UserEntity, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'invitedById' })
  invitedBy?: UserEntity;

  /** The service user who invited the member, when one did. */
  @Index('IDX_memberships_invited_by_service_user')
  @Column({ type: 'uuid', nullable: true })
  invitedByServiceUserId: string | null;

  @ManyToOne(() => ServiceUserEntity, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'invitedByServiceUserId' })
  invitedByServiceUser?: ServiceUserEntity;

  @CreateDateColumn({ type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
