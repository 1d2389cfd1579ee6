import { Inject, Injectable } from '@nestjs/common';
import { assertProjectAccess, readableProjects } from '@pipewright/auth';
import { isUuid, type EnvironmentKind, type Identity, type PipelineSnapshot, type TriggerType } from '@pipewright/contracts';
import { MessageBus, QueryError } from '@pipewright/messaging';
import { connectionOf, cursorShapes, DomainError, pageArgs, SecretBox, type Connection, type FieldProblem } from '@pipewright/platform';
import { Cron } from 'croner';
import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { TRIGGERS_CONFIG, type Config } from '../config';
import { TriggersError } from '../errors';
import { HOOK_TYPES, parseConfig, templateRefs, type CronConfig, type TriggerConfig } from './trigger-config';
import { DeliveryEntity, TriggerEntity } from './trigger.entity';

export const TRIGGERS_SECRET_BOX = Symbol('TRIGGERS_SECRET_BOX');

export interface CreateTrigger {
  pipelineId: string;
  type: TriggerType;
  name: string;
  config: unknown;
  enabled?: boolean | null;
}

export interface UpdateTrigger {
  name?: string | null;
  config?: unknown;
  enabled?: boolean | null;
}

/** The additional data a trigger's sealed secret is bound to. */
export const secretAad = (triggerId: string) => `trigger:${triggerId}:secret`;

/** The next time a CRON trigger fires after `from` (null when the expression has no more). */
export function nextCronTime(config: CronConfig, from: Date): Date | null {
  return new Cron(config.expression, { timezone: config.timezone, paused: true }).nextRun(from);
}

/** Triggers and their delivery history: create, change, list; who may is checked in the pipeline's project. */
@Injectable()
export class TriggerService {
  constructor(
    private readonly ds: DataSource,
    private readonly bus: MessageBus,
    @Inject(TRIGGERS_SECRET_BOX) private readonly box: SecretBox,
    @Inject(TRIGGERS_CONFIG) private readonly config: Config,
  ) {}

  hookUrl(t: TriggerEntity): string | null {
    return HOOK_TYPES.includes(t.type) ? `${this.config.PUBLIC_URL}/hooks/${t.id}` : null;
  }

  openSecret(t: TriggerEntity): string | null {
    return t.secret ? this.box.open(t.secret, secretAad(t.id)) : null;
  }

  private async snapshot(pipelineId: string, field: string): Promise<PipelineSnapshot> {
    if (!isUuid(pipelineId)) throw DomainError.badInput([{ field, message: `must be a pipeline id (got "${pipelineId.slice(0, 80)}")` }]);
    try {
      return await this.bus.request('rpc.pipelines.pipeline.snapshot', { pipelineId }, { timeoutMs: 5000 });
    } catch (err) {
      if (err instanceof QueryError && err.code === 'NOT_FOUND') throw DomainError.badInput([{ field, message: `names no pipeline (${pipelineId}); pipelines() lists them` }]);
      throw new DomainError('UNAVAILABLE', 'cannot read the pipeline: the pipelines service did not answer; try again');
    }
  }

  /** The config checked against the pipeline and the project: parameters it has, resources of the project, another pipeline of it. */
  private async checkConfig(type: TriggerType, config: TriggerConfig, pipeline: PipelineSnapshot, ownId: string | null): Promise<void> {
    const problems: FieldProblem[] = [];
    const known = new Set(pipeline.document.parameters?.map((p) => p.name) ?? []);
    for (const [name, template] of Object.entries(config.parameters ?? {})) {
      if (!known.has(name)) problems.push({ field: `input.config.parameters.${name}`, message: `is not a parameter of pipeline "${pipeline.document.name}" (it has ${[...known].join(', ') || 'none'})` });
      for (const ref of templateRefs(template)) {
        if (!/^(event|trigger|git|image)(\.[A-Za-z0-9_-]+|\[\d+\])*$/.test(ref)) problems.push({ field: `input.config.parameters.${name}`, message: `\${${ref}} must start with event., trigger., git. or image. (e.g. \${event.head_commit.id})` });
      }
    }
    const refs: { kind: EnvironmentKind; id: string; field: string }[] = [];
    if (type === 'GIT_PUSH' || type === 'GIT_TAG') refs.push({ kind: 'source-repository', id: (config as { repositoryId: string }).repositoryId, field: 'input.config.repositoryId' });
    if (type === 'IMAGE_PUSH') refs.push({ kind: 'image-registry', id: (config as { registryId: string }).registryId, field: 'input.config.registryId' });
    if (refs.length) {
      let reply;
      try {
        reply = await this.bus.request('rpc.environments.exists', { refs: refs.map(({ kind, id }) => ({ kind, id })), projectId: pipeline.projectId }, { timeoutMs: 5000 });
      } catch {
        throw new DomainError('UNAVAILABLE', 'cannot check the environment settings: the environments service did not answer; try again');
      }
      for (const r of refs) {
        if (reply.missing.some((m) => m.id === r.id)) problems.push({ field: r.field, message: `names no ${r.kind.replace('-', ' ')} (${r.id}); the project's environment settings list them` });
        else if (reply.otherProject.some((m) => m.id === r.id)) problems.push({ field: r.field, message: `is a ${r.kind.replace('-', ' ')} of another project; a trigger may only use its pipeline's project's` });
      }
    }
    if (type === 'PIPELINE') {
      const upstreamId = (config as { pipelineId: string }).pipelineId;
      if (upstreamId === pipeline.pipelineId) problems.push({ field: 'input.config.pipelineId', message: 'is this trigger\'s own pipeline: a pipeline cannot start itself when it ends' });
      else {
        const upstream = await this.snapshot(upstreamId, 'input.config.pipelineId');
        if (upstream.projectId !== pipeline.projectId) problems.push({ field: 'input.config.pipelineId', message: `is a pipeline of another project; a PIPELINE trigger may only follow pipelines of its own project` });
        // Pipelines that start each other when they end would run for ever: refuse the trigger that closes the loop.
        else if (await this.startsAgain(pipeline.pipelineId, upstreamId, ownId)) {
          problems.push({ field: 'input.config.pipelineId', message: `"${upstream.document.name}" is itself started (through PIPELINE triggers) when "${pipeline.document.name}" ends: the two would start each other for ever` });
        }
      }
    }
    if (problems.length) throw DomainError.badInput(problems);
  }

  /** Whether a run of `from` ending starts, through PIPELINE triggers (but `ownId`), a run of `target`. */
  private async startsAgain(from: string, target: string, ownId: string | null): Promise<boolean> {
    const rows: unknown[] = await this.ds.query(
      `WITH RECURSIVE reach(p) AS (
         SELECT $1::uuid
         UNION
         SELECT t.pipeline_id FROM triggers t JOIN reach r ON t.type = 'PIPELINE' AND t.config->>'pipelineId' = r.p::text AND ($3::uuid IS NULL OR t.id <> $3::uuid)
       )
       SELECT 1 FROM reach WHERE p = $2::uuid LIMIT 1`,
      [from, target, ownId],
    );
    return rows.length > 0;
  }

  private checkName(name: string): string {
    const n = name.trim();
    if (!n || n.length > 100) throw DomainError.badInput([{ field: 'input.name', message: 'must be 1-100 characters' }]);
    return n;
  }

  async create(input: CreateTrigger, by: Identity): Promise<{ trigger: TriggerEntity; secret: string | null }> {
    const pipeline = await this.snapshot(input.pipelineId, 'input.pipelineId');
    assertProjectAccess(by, pipeline.projectId, 'write', `add a trigger to pipeline "${pipeline.document.name}"`);
    const name = this.checkName(input.name);
    const config = parseConfig(input.type, input.config);
    await this.checkConfig(input.type, config, pipeline, null);
    const id = randomUUID();
    const now = new Date();
    const secret = HOOK_TYPES.includes(input.type) ? randomBytes(32).toString('base64url') : null;
    const t = Object.assign(new TriggerEntity(), {
      id,
      projectId: pipeline.projectId,
      pipelineId: pipeline.pipelineId,
      type: input.type,
      name,
      config,
      enabled: input.enabled ?? true,
      secret: secret ? this.box.seal(secret, secretAad(id)) : null,
      createdBy: by.sub,
      createdAt: now,
      updatedAt: now,
      scheduleFrom: input.type === 'CRON' ? now : null,
      pollState: null,
      polledAt: null,
    });
    try {
      await this.ds.getRepository(TriggerEntity).insert(t);
    } catch (err) {
      if ((err as { code?: string }).code === '23505') throw new TriggersError('CONFLICT', `pipeline "${pipeline.document.name}" already has a trigger named "${name}"`, { field: 'input.name' });
      throw err;
    }
    return { trigger: t, secret };
  }

  /** A trigger the caller may `action` (read: any member), NOT_FOUND naming the id otherwise. */
  async findFor(id: string, by: Identity, action: 'read' | 'write', what: string): Promise<TriggerEntity> {
    const t = isUuid(id) ? await this.ds.getRepository(TriggerEntity).findOneBy({ id }) : null;
    if (!t) throw new DomainError('NOT_FOUND', `no trigger with id "${id.slice(0, 80)}"; triggers(pipelineId) lists a pipeline's`, { field: 'id' });
    assertProjectAccess(by, t.projectId, action, what);
    return t;
  }

  async find(id: string, by: Identity): Promise<TriggerEntity | null> {
    if (!isUuid(id)) return null;
    const t = await this.ds.getRepository(TriggerEntity).findOneBy({ id });
    if (t) assertProjectAccess(by, t.projectId, 'read', 'see this trigger');
    return t;
  }

  async update(id: string, input: UpdateTrigger, by: Identity): Promise<TriggerEntity> {
    const t = await this.findFor(id, by, 'write', 'change this trigger');
    const patch: Partial<TriggerEntity> = { updatedAt: new Date() };
    if (input.name !== undefined && input.name !== null) patch.name = this.checkName(input.name);
    if (input.config !== undefined && input.config !== null) {
      const config = parseConfig(t.type, input.config);
      await this.checkConfig(t.type, config, await this.snapshot(t.pipelineId, 'id'), t.id);
      patch.config = config;
    }
    if (input.enabled !== undefined && input.enabled !== null) patch.enabled = input.enabled;
    // A schedule switched on again, or changed, counts from now: the time it was off is not "missed".
    if (t.type === 'CRON' && ((patch.enabled && !t.enabled) || patch.config)) patch.scheduleFrom = new Date();
    try {
      await this.ds.getRepository(TriggerEntity).update({ id: t.id }, patch);
    } catch (err) {
      if ((err as { code?: string }).code === '23505') throw new TriggersError('CONFLICT', `this pipeline already has a trigger named "${patch.name}"`, { field: 'input.name' });
      throw err;
    }
    return Object.assign(t, patch);
  }

  async remove(id: string, by: Identity): Promise<string> {
    const t = await this.findFor(id, by, 'write', 'delete this trigger');
    await this.ds.getRepository(TriggerEntity).delete({ id: t.id });
    return t.id;
  }

  async rotateSecret(id: string, by: Identity): Promise<{ trigger: TriggerEntity; secret: string }> {
    const t = await this.findFor(id, by, 'write', "rotate this trigger's secret");
    if (!HOOK_TYPES.includes(t.type)) throw DomainError.badInput([{ field: 'id', message: `is a ${t.type} trigger, which has no secret (only ${HOOK_TYPES.join(', ')} do)` }]);
    const secret = randomBytes(32).toString('base64url');
    t.secret = this.box.seal(secret, secretAad(t.id));
    t.updatedAt = new Date();
    await this.ds.getRepository(TriggerEntity).update({ id: t.id }, { secret: t.secret, updatedAt: t.updatedAt });
    return { trigger: t, secret };
  }

  /** A pipeline's triggers by name (only what the caller may read). */
  async list(pipelineId: string, page: { first?: number | null; after?: string | null }, by: Identity): Promise<Connection<TriggerEntity>> {
    const { first, after } = pageArgs(page.first, page.after, cursorShapes.nameId);
    if (!isUuid(pipelineId)) throw DomainError.badInput([{ field: 'pipelineId', message: `must be a pipeline id (got "${pipelineId.slice(0, 80)}")` }]);
    const readable = readableProjects(by);
    const base = () => {
      const q = this.ds.getRepository(TriggerEntity).createQueryBuilder('t').where('t.pipeline_id = :pipelineId', { pipelineId });
      if (readable !== 'all') q.andWhere('t.project_id = ANY(:readable)', { readable });
      return q;
    };
    const rows = base().orderBy('lower(t.name)').addOrderBy('t.id').limit(first + 1);
    if (after) rows.andWhere('(lower(t.name), t.id) > (:n, :i)', { n: after[0], i: after[1] });
    const [found, totalCount] = await Promise.all([rows.getMany(), base().getCount()]);
    return connectionOf(found, first, after, totalCount, (t) => [t.name.toLowerCase(), t.id]);
  }

  /** A trigger's deliveries, newest first. */
  async deliveries(trigger: TriggerEntity, page: { first?: number | null; after?: string | null }): Promise<Connection<DeliveryEntity>> {
    const { first, after } = pageArgs(page.first, page.after, cursorShapes.createdAtId);
    const base = () => this.ds.getRepository(DeliveryEntity).createQueryBuilder('d').where('d.trigger_id = :id', { id: trigger.id });
    const rows = base().orderBy('d.received_at', 'DESC').addOrderBy('d.id', 'DESC').limit(first + 1);
    if (after) rows.andWhere('(d.received_at, d.id) < (:at, :i)', { at: after[0], i: after[1] });
    const [found, totalCount] = await Promise.all([rows.getMany(), base().getCount()]);
    return connectionOf(found, first, after, totalCount, (d) => [d.receivedAt.toISOString(), d.id]);
  }

  nextFireAt(t: TriggerEntity): Date | null {
    if (t.type !== 'CRON' || !t.enabled) return null;
    return nextCronTime(t.config as CronConfig, new Date());
  }
}
