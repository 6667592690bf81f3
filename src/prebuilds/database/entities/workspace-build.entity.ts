import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity('workspace_builds')
export class WorkspaceBuildEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'workspace_id' }) workspaceId: string;
  @Column('integer', { name: 'build_number' }) buildNumber: number;
  @Column('text') transition: 'start' | 'stop' | 'delete';
  @Column('uuid', { name: 'template_version_id' }) templateVersionId: string;
  @Column('uuid', { name: 'preset_id', nullable: true }) presetId: string | null;
  @Column('uuid', { name: 'initiator_id' }) initiatorId: string;
  /** Why the build happened: 'initiator' (a user), 'prebuild' (the reconciler), 'claim'. */
  @Column('text', { default: 'initiator' }) reason: string;
  @Column('uuid', { name: 'job_id', unique: true }) jobId: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
