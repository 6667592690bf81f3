import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A time-based desired count; the first matching schedule (by ordinal) wins. */
@Entity('prebuild_schedules')
export class PrebuildScheduleEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'preset_id' }) presetId: string;
  @Column('integer') ordinal: number;
  @Column('text', { name: 'cron_expression' }) cronExpression: string;
  @Column('integer', { name: 'desired_instances' }) desiredInstances: number;
}
