import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

@Entity('users')
@Check('CHK_users_email_lowercase', `"email" = lower("email")`)
export class UserEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** Stored lower-cased (enforced by a check), so the unique index is case-insensitive. */
  @Index('UQ_users_email', { unique: true })
  @Column({ type: 'varchar', length: 320 })
  email: string;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  /** argon2id PHC string. */
  @Column({ type: 'text' })
  passwordHash: string;

  /** SHA-256 of the DRF-style user key; the key itself is never stored. */
  @Index('UQ_users_user_key_digest', { unique: true })
  @Column({ type: 'bytea' })
  userKeyDigest: Buffer;

  @Column({ type: 'boolean', default: true })
  isActive: boolean;

  @Column({ type: 'timestamptz', nullable: true })
  lastSeenAt: Date | null;

  @CreateDateColumn({ type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
