import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

@Entity('organizations')
@Check('CHK_organizations_slug_format', `"slug" ~ '^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$'`)
export class OrganizationEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  @Index('UQ_organizations_slug', { unique: true })
  @Column({ type: 'varchar', length: 64 })
  slug: string;

  @CreateDateColumn({ type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
