import type { EnvironmentKind } from '@pipewright/contracts';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { SealedSecret } from '@pipewright/platform';

/**
 * One environment resource of any kind. Plain settings live in `config`; credentials live only in
 * `secrets`, sealed (AES-256-GCM, key id beside each value). Never exposed through GraphQL.
 */
@Entity({ name: 'resources' })
export class ResourceEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  /** The project it belongs to; only that project's members see it and its pipelines use it. */
  @Column({ name: 'project_id', type: 'uuid' })
  projectId!: string;

  @Column({ type: 'text' })
  kind!: EnvironmentKind;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'jsonb' })
  config!: Record<string, unknown>;

  @Column({ type: 'jsonb' })
  secrets!: Record<string, SealedSecret>;

  @Column({ type: 'int' })
  version!: number;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'created_by', type: 'text' })
  createdBy!: string;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  @Column({ name: 'updated_by', type: 'text' })
  updatedBy!: string;
}
