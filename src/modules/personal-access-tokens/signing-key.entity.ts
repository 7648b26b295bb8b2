import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/**
 * A JWT signing key generated on first start when JWT_PRIVATE_KEYS is not
 * set, so that every instance of one deployment signs and verifies alike.
 * The newest signs; all verify. `idgraph rotate-signing-key` adds a newer
 * one and marks the previous ones retired: they keep verifying until nothing
 * they signed can still be valid, and are removed by a later rotation.
 */
@Entity('signing_keys')
export class SigningKeyEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  kid: string;

  @Column({ type: 'varchar', length: 16 })
  alg: string;

  @Column({ type: 'jsonb' })
  privateJwk: Record<string, unknown>;

  @Column({ type: 'jsonb' })
  publicJwk: Record<string, unknown>;

  @CreateDateColumn({ type: 'timestamptz', precision: 3 })
  createdAt: Date;

  /** When a newer key took over signing; null for the key that signs. */
  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  retiredAt: Date | null;
}
