import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique, UpdateDateColumn } from 'typeorm';
import { OrganizationRole } from '../../auth/rights';
import { UserEntity } from '../users/user.entity';
import { OrganizationEntity } from './organization.entity';

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

  @CreateDateColumn({ type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
