import type { BuildStart, BuildStatus } from '@pipewright/contracts';
import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'builds' })
export class BuildEntity {
  @PrimaryColumn({ type: 'uuid' }) id!: string;
  /** One per stage attempt (from the executions service); a repeated command finds this build. */
  @Column({ name: 'build_request_id', type: 'uuid' }) buildRequestId!: string;
  /** The run's project (the command's; the default project for commands sent before projects existed). */
  @Column({ name: 'project_id', type: 'uuid' }) projectId!: string;
  @Column({ name: 'run_id', type: 'uuid' }) runId!: string;
  @Column({ name: 'run_number', type: 'int' }) runNumber!: number;
  @Column({ name: 'pipeline_id', type: 'uuid' }) pipelineId!: string;
  @Column({ name: 'ref_id', type: 'text' }) refId!: string;
  @Column({ name: 'stage_type', type: 'text' }) stageType!: BuildStart['stageType'];
  /** Per pipeline stage: 1, 2, 3, ... never reused. */
  @Column({ type: 'int' }) number!: number;
  @Column({ type: 'text' }) status!: BuildStatus;
  @Column({ type: 'jsonb' }) command!: BuildStart;
  /** The executor's saved progress (resumable builds). */
  @Column({ type: 'jsonb' }) state!: Record<string, unknown>;
  @Column({ type: 'jsonb', nullable: true }) outputs!: Record<string, unknown> | null;
  @Column({ type: 'text', nullable: true }) error!: string | null;
  @Column({ type: 'text', nullable: true }) warning!: string | null;
  @Column({ type: 'text', nullable: true }) image!: string | null;
  @Column({ type: 'text', nullable: true }) digest!: string | null;
  @Column({ name: 'cancel_reason', type: 'text', nullable: true }) cancelReason!: string | null;
  @Column({ name: 'log_lines', type: 'int' }) logLines!: number;
  @Column({ type: 'text', nullable: true }) owner!: string | null;
  @Column({ name: 'lease_until', type: 'timestamptz', nullable: true }) leaseUntil!: Date | null;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column({ name: 'started_at', type: 'timestamptz', nullable: true }) startedAt!: Date | null;
  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true }) finishedAt!: Date | null;
}
