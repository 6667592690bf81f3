import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

@Entity('templates')
export class TemplateEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'organization_id' }) organizationId: string;
  @Column('text') name: string;
  @Column('uuid', { name: 'active_version_id', nullable: true }) activeVersionId: string | null;
  @Column('boolean', { default: false }) deleted: boolean;
  /** '' means not deprecated; otherwise the deprecation message. */
  @Column('text', { default: '' }) deprecated: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
