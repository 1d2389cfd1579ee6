import { parseMessage, subjects, TERMINAL_RUN_STATUSES, type DurableSubject, type PayloadOf, type RunStatus, type StageDocument } from '@pipewright/contracts';
import { preparedQuery } from '@pipewright/persistence';
import type { DataSource, EntityManager, EntityMetadata } from 'typeorm';
import type { Config } from '../config';
import { RunEntity, StageRunEntity, type MessageKind } from '../runs/run.entity';
import type { Payloads } from './messages';

type RunSubject = 'evt.executions.run.status-changed.v1' | 'evt.executions.stage.status-changed.v1';

/** A row as to_jsonb gives it (column names), and back: the run's history and its reads use this shape. */
export function entityToJson(metadata: EntityMetadata, entity: object, omit: string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of metadata.columns) if (!omit.includes(c.databaseName)) out[c.databaseName] = (entity as Record<string, unknown>)[c.propertyName] ?? null;
  return out;
}

export function entityFromJson<T extends object>(metadata: EntityMetadata, target: T, json: Record<string, unknown>): T {
  const t = target as Record<string, unknown>;
  for (const c of metadata.columns) {
    const value = json[c.databaseName];
    t[c.propertyName] = value != null && c.type === 'timestamptz' ? new Date(value as string) : (value ?? null);
  }
  return target;
}

/** A run and its stages (in pipeline order). */
export interface RunState {
  run: RunEntity;
  stages: StageRunEntity[];
}

/** A copy that can be changed without touching the original. */
export function cloneState({ run, stages }: RunState): RunState {
  return { run: Object.assign(new RunEntity(), structuredClone({ ...run })), stages: stages.map((s) => Object.assign(new StageRunEntity(), structuredClone({ ...s }))) };
}

/** A run and its stages (in pipeline order) in one statement. */
export async function loadRun(db: EntityManager | DataSource, runId: string): Promise<RunState | null> {
  const [row] = await preparedQuery<{ run: Record<string, unknown>; stages: unknown }>(
    db,
    `SELECT to_jsonb(r) AS run, (SELECT coalesce(jsonb_agg(to_jsonb(s) ORDER BY s.position), '[]') FROM stage_runs s WHERE s.run_id = r.id) AS stages
     FROM runs r WHERE r.id = $1`,
    [runId],
  );
  if (!row) return null;
  const connection = 'connection' in db ? db.connection : db;
  const run = entityFromJson(connection.getMetadata(RunEntity), new RunEntity(), row.run);
  const stages = (row.stages as Record<string, unknown>[]).map((s) => entityFromJson(connection.getMetadata(StageRunEntity), new StageRunEntity(), s));
  return { run, stages };
}

/** The stage columns a handler may change (all but the key and what the pipeline fixed). */
const STAGE_SET = `status = v.status, attempt = v.attempt, generation = v.generation, config = v.config, state = v.state, outputs = v.outputs,
  error = v.error, decision = v.decision, skip_downstream = v.skip_downstream, started_at = v.started_at, finished_at = v.finished_at,
  deadline_at = v.deadline_at, restarted_by = v.restarted_by, restarted_at = v.restarted_at`;
const STAGE_RECORD = `ref_id text, status text, attempt int, generation int, config jsonb, state jsonb, outputs jsonb, error text, decision jsonb,
  skip_downstream boolean, started_at timestamptz, finished_at timestamptz, deadline_at timestamptz, restarted_by text, restarted_at timestamptz`;

/**
 * Everything a handler writes, in one statement: the run (its version bumped), the stages it
 * changed, one run_history row and one outbox event per change (each with the run's next
 * sequence), the outbox commands, and the engine messages it enqueued.
 *
 * With a check ($12 the version the handler read, $13/$14 its message and lease owner), the
 * statement is the step's whole write, outside any transaction: `lk` locks the message while it
 * is leased to this process (first, so no claim can take it over while `ru` waits for the run's
 * lock: a claim skips locked rows), `ru` writes the run only while it still has that version and
 * `lk` holds the message, and every other part
 * writes only if `ru` did (so all or nothing), the message included. A concurrent writer of the
 * run holds its row lock until it commits; this statement then sees the version it left and
 * writes nothing. Without a check the caller's transaction holds the run's lock (and took its message).
 */
const FLUSH = `WITH
  lk AS (SELECT id FROM engine_messages WHERE id = $13::bigint AND lease_owner = $14 FOR UPDATE),
  ru AS (UPDATE runs SET status = $3, reason = $4, started_at = $5, finished_at = $6, artifacts = $7::jsonb, sequence = $8, version = version + 1
         WHERE id = $1 AND ($12::int IS NULL OR (version = $12 AND EXISTS (SELECT 1 FROM lk)))
         RETURNING version AS new_version),
  dm AS (DELETE FROM engine_messages WHERE id IN (SELECT id FROM lk) AND EXISTS (SELECT 1 FROM ru) RETURNING 1),
  st AS (UPDATE stage_runs s SET ${STAGE_SET} FROM jsonb_to_recordset($2::jsonb) AS v(${STAGE_RECORD}), ru WHERE s.run_id = $1 AND s.ref_id = v.ref_id RETURNING 1),
  hi AS (INSERT INTO run_history (run_id, sequence, state) SELECT $1, v.sequence, v.state FROM jsonb_to_recordset($9::jsonb) AS v(sequence int, state jsonb), ru RETURNING 1),
  ob AS (INSERT INTO outbox (subject, payload) SELECT e.value ->> 'subject', e.value -> 'payload' FROM jsonb_array_elements($10::jsonb) WITH ORDINALITY AS e(value, n), ru ORDER BY e.n RETURNING 1),
  em AS (INSERT INTO engine_messages (kind, run_id, ref_id, payload, due_at, lease_owner, lease_until, attempts)
         SELECT e.value ->> 'kind', (e.value ->> 'runId')::uuid, e.value ->> 'refId', e.value -> 'payload', now() + (e.value ->> 'delayMs')::float8 * interval '1 millisecond',
                e.value ->> 'owner', CASE WHEN e.value ? 'owner' THEN now() + (e.value ->> 'leaseMs')::float8 * interval '1 millisecond' END, CASE WHEN e.value ? 'owner' THEN 1 ELSE 0 END
         FROM jsonb_array_elements($11::jsonb) AS e(value), ru
         RETURNING id::text AS id, kind, run_id::text AS "runId", ref_id AS "refId", payload, attempts, lease_owner IS NOT NULL AS leased)
  SELECT (SELECT new_version FROM ru) AS version,
         EXISTS (SELECT 1 FROM lk) AS held,
         (SELECT coalesce(jsonb_agg(to_jsonb(em) - 'leased'), '[]') FROM em WHERE em.leased) AS leased`;

/**
 * A checked step that changed nothing: its message is removed while it is leased to this process
 * ($2) and the run ($3) still has the version the step read ($4), without bumping it (so the
 * run's other steps in flight are not made stale by it). FOR SHARE waits for a writer of the run
 * that has not committed yet, and then sees its version.
 */
const DROP_CHECKED = `WITH
  lk AS (SELECT id FROM engine_messages WHERE id = $1::bigint AND lease_owner = $2 FOR UPDATE),
  rv AS (SELECT 1 FROM runs WHERE id = $3 AND version = $4 FOR SHARE),
  dm AS (DELETE FROM engine_messages WHERE id IN (SELECT id FROM lk) AND EXISTS (SELECT 1 FROM rv) RETURNING 1)
  SELECT EXISTS (SELECT 1 FROM dm) AS dropped, EXISTS (SELECT 1 FROM lk) AS held`;

/** What a checked flush (a stage step's, outside a transaction) came to. */
export type CheckedFlush =
  | { outcome: 'applied'; leased: LeasedMessage[] }
  /** The run changed since the step read it: read it again and decide again. */
  | { outcome: 'stale' }
  /** The message is not this process's any more (its lease ran out and another took it, or the run is gone): nothing to do. */
  | { outcome: 'lost' };

/** An engine message inserted already leased to this process. */
export interface LeasedMessage {
  id: string;
  kind: MessageKind;
  runId: string;
  refId: string | null;
  payload: never;
  attempts: number;
}

/** Lets a handler's transaction take the stage steps it starts itself (see RunTx.enqueueFor). */
export interface LocalLease {
  owner: string;
  leaseMs: number;
  /** How many it may take: the queue's free slots. */
  slots: number;
}

/**
 * One handler's transaction on one run: the run's row lock and its stages, read in one statement;
 * every change made in memory (setStage, setRunStatus, updateRun) and recorded with its event, then
 * written by flush() in one statement before the commit. Handlers of one run never interleave.
 */
export class RunTx {
  private readonly dirty = new Set<StageRunEntity>();
  private runDirty = false;
  private readonly history: { sequence: number; state: unknown }[] = [];
  private readonly outboxRows: { subject: string; payload: unknown }[] = [];
  private readonly messages: { kind: MessageKind; runId: string; refId: string | null; payload: unknown; delayMs: number; owner?: string; leaseMs?: number }[] = [];
  /** The delays of the messages this transaction enqueued: the engine wakes its queue for each after the commit. */
  readonly delays: number[] = [];

  private constructor(
    readonly tx: EntityManager,
    readonly run: RunEntity,
    private readonly rows: StageRunEntity[],
    readonly config: Config,
    private readonly local?: LocalLease,
  ) {}

  /**
   * A stage step's handler on the run as it read it, without a transaction or lock: `tx` runs
   * each statement on its own (reads of other runs see what is committed, as in a transaction),
   * and flushChecked() writes everything only if the run is unchanged (see FLUSH).
   */
  static unlocked(db: EntityManager, state: RunState, config: Config, local?: LocalLease): RunTx {
    return new RunTx(db, state.run, state.stages, config, local);
  }

  /**
   * Reads the run with its stages under its row lock; `locked` when the caller's transaction holds
   * it already. The read is a statement after the lock: one that waited for the lock reads what the
   * transaction before it committed (a single SELECT ... FOR UPDATE would read its stages as they
   * were before the wait). Null when the run is gone.
   */
  static async open(tx: EntityManager, runId: string, config: Config, opts: { locked?: boolean; local?: LocalLease } = {}): Promise<RunTx | null> {
    if (!opts.locked) {
      const rows: unknown[] = await tx.query(`SELECT id FROM runs WHERE id = $1 FOR UPDATE`, [runId]);
      if (!rows.length) return null;
    }
    const loaded = await loadRun(tx, runId);
    return loaded && new RunTx(tx, loaded.run, loaded.stages, config, opts.local);
  }

  /** The run and its stages as this transaction leaves them. */
  get state(): RunState {
    return { run: this.run, stages: this.rows };
  }

  get ended(): boolean {
    return TERMINAL_RUN_STATUSES.includes(this.run.status);
  }

  doc(refId: string): StageDocument {
    return this.run.snapshot.stages.find((s) => s.refId === refId)!;
  }

  async stages(): Promise<StageRunEntity[]> {
    return this.rows;
  }

  async stage(refId: string): Promise<StageRunEntity | undefined> {
    return this.rows.find((s) => s.refId === refId);
  }

  async setRunStatus(status: RunStatus, reason: string | null = null): Promise<void> {
    const run = this.run;
    if (run.status === status) return;
    run.status = status;
    if (reason !== null) run.reason = reason;
    if (status === 'RUNNING' && !run.startedAt) run.startedAt = new Date();
    if (TERMINAL_RUN_STATUSES.includes(status)) run.finishedAt = new Date();
    this.runDirty = true;
    this.event('evt.executions.run.status-changed.v1', { runId: run.id, pipelineId: run.pipelineId, number: run.number, status: run.status, reason: run.reason, at: new Date().toISOString() });
  }

  /** Changes run columns other than the status (artifacts, reason, finishedAt). */
  updateRun(changes: Partial<Pick<RunEntity, 'artifacts' | 'reason' | 'finishedAt'>>): void {
    Object.assign(this.run, changes);
    this.runDirty = true;
  }

  /** Changes a stage's row; a change of status or attempt is an event. */
  async setStage(stage: StageRunEntity, changes: Partial<StageRunEntity>): Promise<void> {
    const statusChanged = changes.status !== undefined && changes.status !== stage.status;
    const attemptChanged = changes.attempt !== undefined && changes.attempt !== stage.attempt;
    Object.assign(stage, changes);
    this.dirty.add(stage);
    if (statusChanged || attemptChanged) {
      const { run } = this;
      this.event('evt.executions.stage.status-changed.v1', { runId: run.id, pipelineId: run.pipelineId, refId: stage.refId, status: stage.status, attempt: stage.attempt, error: stage.error, at: new Date().toISOString() });
    }
  }

  enqueue<K extends MessageKind>(kind: K, refId: string | null, payload: Payloads[K], delayMs = 0): Promise<void> {
    return this.enqueueFor(this.run.id, kind, refId, payload, delayMs);
  }

  /** A message about another run (a child to cancel, the next queued run to start), in this transaction. */
  async enqueueFor<K extends MessageKind>(runId: string, kind: K, refId: string | null, payload: Payloads[K], delayMs = 0): Promise<void> {
    // Immediate ones are announced by NOTIFY; a delayed one would otherwise wait for the sweep.
    if (delayMs > 0) this.delays.push(Math.round(delayMs));
    // A stage this transaction starts is run by this process straight after the commit (no claim,
    // no second read), leased to it in the insert, while the queue has room; otherwise by whoever claims it.
    const local = kind === 'RunStage' && runId === this.run.id && delayMs <= 0 && this.local && this.local.slots > 0 ? this.local : undefined;
    if (local) local.slots--;
    this.messages.push({ kind, runId, refId, payload, delayMs: Math.max(0, Math.round(delayMs)), ...(local ? { owner: local.owner, leaseMs: local.leaseMs } : {}) });
  }

  /** A command through the outbox (e.g. to the builds service), validated now, sent after the commit. */
  async outbox<S extends DurableSubject>(subject: S, payload: PayloadOf<S>): Promise<void> {
    this.outboxRows.push({ subject, payload: parseMessage(subject, subjects[subject].payload, payload) });
  }

  /**
   * One event about the run: the run's next sequence, the run as it is now recorded under it
   * (run_history: a subscriber is shown each state, not only the newest), and the event with that
   * sequence for the outbox. The payload is validated first.
   */
  private event<S extends RunSubject>(subject: S, payload: Omit<PayloadOf<S>, 'sequence'>): void {
    const sequence = this.run.sequence + 1;
    const valid = parseMessage(subject, subjects[subject].payload, { ...payload, sequence });
    this.run.sequence = sequence;
    this.runDirty = true;
    const meta = this.tx.connection;
    const runJson = entityToJson(meta.getMetadata(RunEntity), this.run, ['snapshot', 'version']);
    const stageMeta = meta.getMetadata(StageRunEntity);
    const stages = this.rows.map((s) => ({ ...entityToJson(stageMeta, s, ['config', 'state']), state: { prompt: s.state?.prompt ?? null } }));
    this.history.push({ sequence, state: { run: runJson, stages } });
    this.outboxRows.push({ subject, payload: valid });
  }

  /** Whether the handler changed anything (a stage, the run, an event, a command or a message). */
  private get changed(): boolean {
    return this.dirty.size > 0 || this.runDirty || this.outboxRows.length > 0 || this.messages.length > 0 || this.history.length > 0;
  }

  /** Writes what the handler changed, in one statement (nothing when it changed nothing), under the caller's lock; answers the messages leased to this process. */
  async flush(): Promise<LeasedMessage[]> {
    if (!this.changed) return [];
    const row = await this.write(null);
    return row.leased as LeasedMessage[];
  }

  /**
   * A stage step's write without a lock: everything the handler changed, and the removal of its
   * message, only if the run still has the version the handler read and the message is still
   * leased to `owner` (all or nothing, one statement).
   */
  async flushChecked(messageId: string, owner: string): Promise<CheckedFlush> {
    if (!this.changed) {
      const [dropped] = await preparedQuery<{ dropped: boolean; held: boolean }>(this.tx, DROP_CHECKED, [messageId, owner, this.run.id, this.run.version]);
      if (dropped.dropped) return { outcome: 'applied', leased: [] };
      return dropped.held ? { outcome: 'stale' } : { outcome: 'lost' };
    }
    const row = await this.write({ version: this.run.version, messageId, owner });
    if (row.version !== null) return { outcome: 'applied', leased: row.leased as LeasedMessage[] };
    return row.held ? { outcome: 'stale' } : { outcome: 'lost' };
  }

  private async write(check: { version: number; messageId: string; owner: string } | null): Promise<{ version: number | null; held: boolean; leased: unknown }> {
    const meta = this.tx.connection.getMetadata(StageRunEntity);
    const stages = [...this.dirty].map((s) => entityToJson(meta, s));
    const r = this.run;
    const [row] = await preparedQuery<{ version: number | null; held: boolean; leased: unknown }>(this.tx, FLUSH, [
      r.id,
      JSON.stringify(stages),
      r.status,
      r.reason,
      r.startedAt,
      r.finishedAt,
      JSON.stringify(r.artifacts),
      r.sequence,
      JSON.stringify(this.history),
      JSON.stringify(this.outboxRows),
      JSON.stringify(this.messages),
      check?.version ?? null,
      check?.messageId ?? null,
      check?.owner ?? null,
    ]);
    if (row.version !== null) {
      // The state handed to the steps this write leased to this process carries the new version.
      r.version = row.version;
      this.dirty.clear();
      this.runDirty = false;
      this.history.length = this.outboxRows.length = this.messages.length = 0;
    }
    return row;
  }
}
