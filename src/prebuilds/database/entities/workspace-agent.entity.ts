import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type AgentLifecycle = 'created' | 'starting' | 'ready' | 'start_error';

/** An agent belongs to the job of the build that created it; a new build brings new agents. */
@Entity('workspace_agents')
export class WorkspaceAgentEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'job_id' }) jobId: string;
  @Column('text', { default: 'main' }) name: string;
  @Column('text', { name: 'lifecycle_state', default: 'created' }) lifecycleState: AgentLifecycle;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column('timestamptz', { name: 'ready_at', nullable: true }) readyAt: Date | null;
}
