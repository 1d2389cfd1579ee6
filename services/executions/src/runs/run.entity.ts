import type { PipelineDocument, RunStatus, RunTrigger, StageStatus } from '@pipewright/contracts';
import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'runs' })
export class RunEntity {
  @PrimaryColumn({ type: 'uuid' }) id!: string;
  /** The project of the pipeline it runs (a child run's is its parent's). */
  @Column({ name: 'project_id', type: 'uuid' }) projectId!: string;
  @Column({ name: 'pipeline_id', type: 'uuid' }) pipelineId!: string;
  @Column({ name: 'pipeline_name', type: 'text' }) pipelineName!: string;
  @Column({ type: 'int' }) revision!: number;
  @Column({ type: 'int' }) number!: number;
  @Column({ type: 'text' }) status!: RunStatus;
  @Column({ type: 'jsonb' }) parameters!: Record<string, string>;
  /** The frozen pipeline revision this run executes. */
  @Column({ type: 'jsonb' }) snapshot!: PipelineDocument;
  /** Named artifacts produced by end conditions. */
  @Column({ type: 'jsonb' }) artifacts!: Record<string, unknown>;
  /** Last event sequence number; every run or stage event takes the next one. */
  @Column({ type: 'int' }) sequence!: number;
  /** Bumped by every engine write of the run or its stages: a stage step's write holds only if it is unchanged since the step read it. */
  @Column({ type: 'int', default: 0 }) version!: number;
  @Column({ type: 'text', nullable: true }) reason!: string | null;
  @Column({ name: 'parent_run_id', type: 'uuid', nullable: true }) parentRunId!: string | null;
  @Column({ name: 'parent_ref_id', type: 'text', nullable: true }) parentRefId!: string | null;
  @Column({ name: 'created_by', type: 'text' }) createdBy!: string;
  /** The trigger (and its delivery) that started the run; null when a person or a parent run did. */
  @Column({ type: 'jsonb', nullable: true }) trigger!: RunTrigger | null;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column({ name: 'started_at', type: 'timestamptz', nullable: true }) startedAt!: Date | null;
  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true }) finishedAt!: Date | null;
}

export interface Decision {
  decision: 'CONTINUE' | 'STOP';
  value: string | null;
  comment: string | null;
  by: string;
  at: string;
}

@Entity({ name: 'stage_runs' })
export class StageRunEntity {
  @PrimaryColumn({ name: 'run_id', type: 'uuid' }) runId!: string;
  @PrimaryColumn({ name: 'ref_id', type: 'text' }) refId!: string;
  @Column({ type: 'int' }) position!: number;
  @Column({ type: 'text' }) name!: string;
  @Column({ type: 'text' }) type!: string;
  @Column({ type: 'text' }) status!: StageStatus;
  @Column({ type: 'int' }) attempt!: number;
  /** How many times restartStage ran it again: part of every key derived from an attempt. */
  @Column({ type: 'int' }) generation!: number;
  /** The config with expressions evaluated, fixed when the stage starts. */
  @Column({ type: 'jsonb', nullable: true }) config!: Record<string, unknown> | null;
  /** The stage type's private progress (e.g. a child run id). */
  @Column({ type: 'jsonb' }) state!: Record<string, unknown>;
  @Column({ type: 'jsonb', nullable: true }) outputs!: Record<string, unknown> | null;
  @Column({ type: 'text', nullable: true }) error!: string | null;
  @Column({ type: 'jsonb', nullable: true }) decision!: Decision | null;
  /** Set when the stage ended in a way that skips everything after it (an unheld precondition). */
  @Column({ name: 'skip_downstream', type: 'boolean' }) skipDownstream!: boolean;
  @Column({ name: 'started_at', type: 'timestamptz', nullable: true }) startedAt!: Date | null;
  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true }) finishedAt!: Date | null;
  @Column({ name: 'deadline_at', type: 'timestamptz', nullable: true }) deadlineAt!: Date | null;
  @Column({ name: 'restarted_by', type: 'text', nullable: true }) restartedBy!: string | null;
  @Column({ name: 'restarted_at', type: 'timestamptz', nullable: true }) restartedAt!: Date | null;
}

/** The engine's messages; each has one handler in engine/handlers/ (see engine/messages.ts). */
export type MessageKind = 'StartRun' | 'RunStage' | 'CompleteStage' | 'CancelRun' | 'RestartStage' | 'StartWaitingRuns';

@Entity({ name: 'engine_messages' })
export class EngineMessageEntity {
  @PrimaryColumn({ type: 'bigint' }) id!: string;
  @Column({ type: 'text' }) kind!: MessageKind;
  @Column({ name: 'run_id', type: 'uuid' }) runId!: string;
  @Column({ name: 'ref_id', type: 'text', nullable: true }) refId!: string | null;
  @Column({ type: 'jsonb' }) payload!: Record<string, unknown>;
  @Column({ name: 'due_at', type: 'timestamptz' }) dueAt!: Date;
  @Column({ name: 'lease_until', type: 'timestamptz', nullable: true }) leaseUntil!: Date | null;
  @Column({ name: 'lease_owner', type: 'text', nullable: true }) leaseOwner!: string | null;
  @Column({ type: 'int' }) attempts!: number;
  @Column({ name: 'last_error', type: 'text', nullable: true }) lastError!: string | null;
}
