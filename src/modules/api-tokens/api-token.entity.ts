import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { RightSet } from '../../auth/rights';
import { OrganizationEntity } from '../organizations/organization.entity';
import { ServiceUserEntity } from '../service-users/service-user.entity';
import { UserEntity } from '../users/user.entity';

/** An org-scoped API token, owned by exactly one user or one service user. */
@Entity('api_tokens')
@Check('CHK_api_tokens_one_owner', `("ownerUserId" IS NULL) <> ("ownerServiceUserId" IS NULL)`)
@Index('IDX_api_tokens_organization_page', ['organizationId', 'createdAt', 'id'])
export class ApiTokenEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid' })
  organizationId: string;

  @ManyToOne(() => OrganizationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organizationId' })
  organization?: OrganizationEntity;

  /** A person's token goes with the person's account. */
  @Index('IDX_api_tokens_owner_user')
  @Column({ type: 'uuid', nullable: true })
  ownerUserId: string | null;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'ownerUserId' })
  ownerUser?: UserEntity | null;

  @Index('IDX_api_tokens_owner_service_user')
  @Column({ type: 'uuid', nullable: true })
  ownerServiceUserId: string | null;

  @ManyToOne(() => ServiceUserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'ownerServiceUserId' })
  ownerServiceUser?: ServiceUserEntity | null;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  @Column({ type: 'varchar', length: 500, nullable: true })
  description: string | null;

  /** The first 12 characters of the secret, to recognise a token in a list or a scanner's report. */
  @Column({ type: 'varchar', length: 12 })
  tokenPrefix: string;

  @Index('UQ_api_tokens_secret_digest', { unique: true })
  @Column({ type: 'bytea' })
  secretDigest: Buffer;

  /** Bit set of rights (see auth/rights.ts); bits are only ever appended, never renumbered. */
  @Column({ type: 'integer' })
  rights: RightSet;

  @Index('IDX_api_tokens_created_by')
  @Column({ type: 'uuid', nullable: true })
  createdById: string | null;

  @ManyToOne(() => UserEntity, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'createdById' })
  createdBy?: UserEntity | null;

  @Index('IDX_api_tokens_expires_at')
  @Column({ type: 'timestamptz', nullable: true })
  expiresAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null;

  /** The last few distinct client addresses, newest first. */
  @Column({ type: 'varchar', length: 45, array: true, default: () => "'{}'" })
  lastUsedAddresses: string[];

  @Column({ type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  revokedReason: string | null;

  @CreateDateColumn({ type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
