import { Column, Entity, JoinColumn, OneToOne, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { OrganizationEntity } from '../organizations/organization.entity';

@Entity('token_expiration_policies')
export class TokenExpirationPolicyEntity {
  @PrimaryColumn({ type: 'uuid' })
  organizationId: string;

  @OneToOne(() => OrganizationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organizationId' })
  organization?: OrganizationEntity;

  @Column({ type: 'boolean', default: false })
  requireExpiration: boolean;

  @Column({ type: 'integer', nullable: true })
  maxLifetimeDays: number | null;

  @Column({ type: 'integer', nullable: true })
  notifyDaysBeforeExpiry: number | null;

  @Column({ type: 'uuid', nullable: true })
  updatedById: string | null;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
