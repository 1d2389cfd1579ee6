import type { ProjectRole } from '@pipewright/contracts';
import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'project_members' })
export class ProjectMemberEntity {
  @PrimaryColumn({ name: 'project_id', type: 'uuid' }) projectId!: string;
  @PrimaryColumn({ type: 'text' }) subject!: string;
  @Column({ type: 'text', array: true }) roles!: ProjectRole[];
  @Column({ name: 'added_by', type: 'text' }) addedBy!: string;
  @Column({ name: 'added_at', type: 'timestamptz' }) addedAt!: Date;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
