import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique, UpdateDateColumn } from 'typeorm';
import { OrganizationRole } from '../../auth/rights';
import { OrganizationEntity } from '../organizations/organization.entity';
import { UserEntity } from '../users/user.entity';

/** A bot account: belongs to one organization, holds a role there, owns tokens independent of any human. */
@Entity('service_users')
@Unique('UQ_service_users_organization_name', ['organizationId', 'name'])
@Index('IDX_service_users_organization_page', ['organizationId', 'createdAt', 'id'])
export class ServiceUserEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid' })
  organizationId: string;

  @ManyToOne(() => OrganizationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organizationId' })
  organization?: OrganizationEntity;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  @Column({ type: 'enum', enum: OrganizationRole, enumName: 'organization_role' })
  role: OrganizationRole;

  /** Kept when its creator's account goes away: the bot belongs to the organization, not to a person. */
  @Index('IDX_service_users_created_by')
  @Column({ type: 'uuid', nullable: true })
  createdById: string | null;

  @ManyToOne(() => UserEntity, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'createdById' })
  createdBy?: UserEntity | null;

  @CreateDateColumn({ type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
