import { Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { ApiTokenEntity } from './api-token.entity';

/**
 * One expiry notice per token and expiry date: the unique pair is how one
 * instance, and only one, claims the sending (INSERT ... ON CONFLICT DO NOTHING).
 */
@Entity('token_expiry_notifications')
@Unique('UQ_token_expiry_notifications_token_expiry', ['apiTokenId', 'expiresAt'])
export class ExpiryNotificationEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid' })
  apiTokenId: string;

  @ManyToOne(() => ApiTokenEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'apiTokenId' })
  apiToken?: ApiTokenEntity;

  @Column({ type: 'timestamptz' })
  expiresAt: Date;

  @Column({ type: 'varchar', length: 320, array: true })
  recipients: string[];

  /** Null when no SMTP server is configured: the notice was only recorded and logged. */
  @Column({ type: 'timestamptz', nullable: true })
  sentAt: Date | null;

  @CreateDateColumn({ type: 'timestamptz', precision: 3 })
  createdAt: Date;
}
