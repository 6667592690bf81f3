import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

@Entity('workspaces')
export class WorkspaceEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'organization_id' }) organizationId: string;
  @Column('uuid', { name: 'template_id' }) templateId: string;
  @Column('uuid', { name: 'owner_id' }) ownerId: string;
  @Column('text') name: string;
  @Column('uuid', { name: 'preset_id', nullable: true }) presetId: string | null;
  @Column('uuid', { name: 'latest_build_id', nullable: true }) latestBuildId: string | null;
  @Column('boolean', { default: false }) deleted: boolean;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
  @Column('timestamptz', { name: 'last_used_at', nullable: true }) lastUsedAt: Date | null;
}
