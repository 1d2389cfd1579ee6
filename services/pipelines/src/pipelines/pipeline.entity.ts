import type { PipelineDocument } from '@pipewright/contracts';
import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A pipeline's identity and its current revision; the definitions live in its revisions. */
@Entity({ name: 'pipelines' })
export class PipelineEntity {
  @PrimaryColumn({ type: 'uuid' }) id!: string;
  /** The project it belongs to; its stages may use only that project's resources and pipelines. */
  @Column({ name: 'project_id', type: 'uuid' }) projectId!: string;
  @Column({ type: 'text' }) name!: string;
  @Column({ type: 'int' }) revision!: number;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column({ name: 'created_by', type: 'text' }) createdBy!: string;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
  @Column({ name: 'updated_by', type: 'text' }) updatedBy!: string;
  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true }) deletedAt!: Date | null;
}

/** One saved version of a pipeline; never changed once written. */
@Entity({ name: 'pipeline_revisions' })
export class PipelineRevisionEntity {
  @PrimaryColumn({ name: 'pipeline_id', type: 'uuid' }) pipelineId!: string;
  @PrimaryColumn({ type: 'int' }) revision!: number;
  @Column({ type: 'jsonb' }) document!: PipelineDocument;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column({ name: 'created_by', type: 'text' }) createdBy!: string;
  /** How it came to be: created, updated, restored from N, imported. */
  @Column({ type: 'text' }) note!: string;
}

/** What the current revision of a pipeline refers to: environment resources and other pipelines. */
@Entity({ name: 'pipeline_references' })
export class PipelineReferenceEntity {
  @PrimaryColumn({ name: 'pipeline_id', type: 'uuid' }) pipelineId!: string;
  @PrimaryColumn({ type: 'text' }) kind!: string;
  @PrimaryColumn({ name: 'resource_id', type: 'text' }) resourceId!: string;
}
