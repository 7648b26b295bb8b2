import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { ApiTokenEntity } from './api-token.entity';

/**
 * A secret replaced by regeneration: valid until `graceEndsAt`, then kept so
 * that presenting it again is recognised as reuse of a leaked secret.
 */
@Entity('api_token_retired_secrets')
export class RetiredSecretEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index('IDX_api_token_retired_secrets_token')
  @Column({ type: 'uuid' })
  apiTokenId: string;

  @ManyToOne(() => ApiTokenEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'apiTokenId' })
  apiToken?: ApiTokenEntity;

  @Index('UQ_api_token_retired_secrets_digest', { unique: true })
  @Column({ type: 'bytea' })
  secretDigest: Buffer;

  @Column({ type: 'timestamptz' })
  graceEndsAt: Date;

  @CreateDateColumn({ type: 'timestamptz', precision: 3 })
  retiredAt: Date;
}
