import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type PrebuildEventType = 'claim_succeeded' | 'claim_missed';

@Entity('prebuild_events')
export class PrebuildEventEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'preset_id' }) presetId: string;
  @Column('text', { name: 'event_type' }) eventType: PrebuildEventType;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
