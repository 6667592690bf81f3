import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export type JobStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'canceling' | 'canceled';

@Entity('provisioner_jobs')
export class ProvisionerJobEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('text', { default: 'workspace_build' }) type: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
  @Column('timestamptz', { name: 'started_at', nullable: true }) startedAt: Date | null;
  @Column('timestamptz', { name: 'completed_at', nullable: true }) completedAt: Date | null;
  @Column('timestamptz', { name: 'canceled_at', nullable: true }) canceledAt: Date | null;
  @Column('text', { name: 'worker_id', nullable: true }) workerId: string | null;
  @Column('text', { nullable: true }) error: string | null;
  /** Derived by PostgreSQL from the timestamps and error (a stored generated column). */
  @Column({ type: 'text', name: 'job_status', insert: false, update: false }) jobStatus: JobStatus;
}
