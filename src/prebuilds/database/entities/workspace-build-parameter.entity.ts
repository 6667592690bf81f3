import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity('workspace_build_parameters')
export class WorkspaceBuildParameterEntity {
  @PrimaryColumn('uuid', { name: 'build_id' }) buildId: string;
  @PrimaryColumn('text') name: string;
  @Column('text') value: string;
}
