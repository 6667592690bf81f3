import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity('template_version_presets')
export class PresetEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'template_version_id' }) templateVersionId: string;
  @Column('text') name: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  /** NULL = this preset wants no prebuilds. */
  @Column('integer', { name: 'desired_instances', nullable: true }) desiredInstances: number | null;
  @Column('integer', { name: 'ttl_seconds', nullable: true }) ttlSeconds: number | null;
  @Column('timestamptz', { name: 'last_invalidated_at', nullable: true }) lastInvalidatedAt: Date | null;
  @Column('text', { name: 'scheduling_timezone', default: '' }) schedulingTimezone: string;
  @Column('text', { name: 'prebuild_status', default: 'healthy' }) prebuildStatus:
    'healthy' | 'hard_limited' | 'validation_failed';
  @Column('timestamptz', { name: 'failure_reset_at', nullable: true }) failureResetAt: Date | null;
}
