import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity('template_version_preset_parameters')
export class PresetParameterEntity {
  @PrimaryColumn('uuid', { name: 'preset_id' }) presetId: string;
  @PrimaryColumn('text') name: string;
  @Column('text') value: string;
}
