import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The single cluster-wide settings row. */
@Entity('prebuilds_settings')
export class PrebuildsSettingsEntity {
  @PrimaryColumn('boolean', { default: true }) id: boolean;
  @Column('boolean', { name: 'reconciliation_paused', default: false }) reconciliationPaused: boolean;
  @Column('timestamptz', { name: 'last_cycle_completed_at', nullable: true })
  lastCycleCompletedAt: Date | null;
  @Column('integer', { name: 'last_cycle_duration_ms', nullable: true }) lastCycleDurationMs: number | null;
  @Column('text', { name: 'last_cycle_replica', nullable: true }) lastCycleReplica: string | null;
}
