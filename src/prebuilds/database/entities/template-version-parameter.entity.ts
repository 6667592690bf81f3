import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type ParameterType = 'string' | 'number' | 'bool';

/** A parameter a template version declares; builds are validated against these. */
@Entity('template_version_parameters')
export class TemplateVersionParameterEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'template_version_id' }) templateVersionId: string;
  @Column('text') name: string;
  @Column('text', { default: 'string' }) type: ParameterType;
  @Column('boolean', { default: false }) required: boolean;
  @Column('text', { name: 'default_value', nullable: true }) defaultValue: string | null;
  @Column('integer', { default: 0 }) ordinal: number;
}
