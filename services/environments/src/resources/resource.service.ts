import { Inject, Injectable } from '@nestjs/common';
import { assertProjectAccess, projectOrDefault } from '@pipewright/auth';
import { isUuid, type EventSubject, type Identity } from '@pipewright/contracts';
import { MessageBus } from '@pipewright/messaging';
import { writeOutbox } from '@pipewright/persistence';
import { assertProjectExists, connectionOf, cursorShapes, DomainError, pageArgs, type Connection } from '@pipewright/platform';
import { randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { ENVIRONMENTS_CONFIG, SECRET_BOX } from '../tokens';
import { EnvironmentsError } from '../errors';
import type { Config } from '../config';
import { pluralLabel, type KindDefinition } from '../kinds/kind';
import { ProbeFailure } from '../probes/http-probe';
import type { ProbeResult } from '../probes/probe-result.model';
import type { SecretBox } from '@pipewright/platform';
import { ResourceEntity } from './resource.entity';
import { openSecrets, sealSecrets } from './resource-secrets';
import { validateInput } from './resource-validation';

/**
 * Create, read, update, delete and probe for every kind of environment resource, each in one
 * project: reading needs any role there, changing needs the project's ADMIN (environment settings
 * are the project admin's). Services on the bus go through ResourceLookupService instead.
 */
@Injectable()
export class ResourceService {
  constructor(
    private readonly ds: DataSource,
    private readonly bus: MessageBus,
    @Inject(SECRET_BOX) private readonly box: SecretBox,
    @Inject(ENVIRONMENTS_CONFIG) private readonly config: Config,
  ) {}

  async create(def: KindDefinition, input: Record<string, unknown>, by: Identity): Promise<ResourceEntity> {
    const { projectId: given, ...fields } = input;
    const projectId = projectOrDefault(given as string | null | undefined);
    assertProjectAccess(by, projectId, 'admin', `create a ${def.label}`);
    await assertProjectExists(this.bus, by, projectId);
    const { name, ...settings } = validateInput(def.schema, def.prepare ? def.prepare(fields) : fields);
    const id = randomUUID();
    const now = new Date();
    const row: ResourceEntity = Object.assign(new ResourceEntity(), {
      id,
      projectId,
      kind: def.kind,
      name,
      ...sealSecrets(this.box, def, id, settings),
      version: 1,
      createdAt: now,
      createdBy: by.sub,
      updatedAt: now,
      updatedBy: by.sub,
    });
    return this.ds.transaction(async (tx) => {
      await this.assertNameFree(tx, def, projectId, name, id);
      await tx.save(ResourceEntity, row).catch((err) => this.rethrowConflict(err, def, name));
      await this.emit(tx, def, row, 'created', by);
      return row;
    });
  }

  async update(def: KindDefinition, id: string, patch: Record<string, unknown>, by: Identity): Promise<ResourceEntity> {
    return this.ds.transaction(async (tx) => {
      const row = await this.lockOrThrow(tx, def, id);
      assertProjectAccess(by, row.projectId, 'admin', `update ${def.label} ${id}`);
      const current: Record<string, unknown> = { name: row.name, ...row.config, ...openSecrets(this.box, row) };
      const given = def.prepare ? def.prepare(patch) : patch;
      const merged = { ...current, ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) };
      const { name, ...settings } = validateInput(def.schema, merged);
      await this.assertNameFree(tx, def, row.projectId, name, id);
      Object.assign(row, { name, ...sealSecrets(this.box, def, id, settings), version: row.version + 1, updatedAt: new Date(), updatedBy: by.sub });
      await tx.save(ResourceEntity, row).catch((err) => this.rethrowConflict(err, def, name));
      await this.emit(tx, def, row, 'updated', by);
      return row;
    });
  }

  async delete(def: KindDefinition, id: string, force: boolean, by: Identity): Promise<ResourceEntity> {
    const existing = await this.getOrThrow(def, id);
    assertProjectAccess(by, existing.projectId, 'admin', `delete ${def.label} ${id}`);
    if (!force) await this.assertUnreferenced(def, existing);
    return this.ds.transaction(async (tx) => {
      const row = await this.lockOrThrow(tx, def, id);
      await tx.delete(ResourceEntity, { id });
      await this.emit(tx, def, row, 'deleted', by);
      return row;
    });
  }

  get(def: KindDefinition, id: string): Promise<ResourceEntity | null> {
    if (!isUuid(id)) return Promise.resolve(null);
    return this.ds.getRepository(ResourceEntity).findOneBy({ id, kind: def.kind });
  }

  /** One resource the caller may read, or null when there is none; FORBIDDEN when it is another project's. */
  async find(def: KindDefinition, id: string, by: Identity): Promise<ResourceEntity | null> {
    const row = await this.get(def, id);
    if (row) assertProjectAccess(by, row.projectId, 'read', `read ${def.label} ${id}`);
    return row;
  }

  async getOrThrow(def: KindDefinition, id: string): Promise<ResourceEntity> {
    const row = await this.get(def, id);
    if (!row) throw new DomainError('NOT_FOUND', `no ${def.label} with id "${id}"`, { id });
    return row;
  }

  /** One project's resources of a kind (default: the project named `default`), by name. */
  async list(
    def: KindDefinition,
    projectIdArg: string | null | undefined,
    args: { first?: number | null; after?: string | null; search?: string | null },
    by: Identity,
  ): Promise<Connection<ResourceEntity>> {
    const projectId = projectOrDefault(projectIdArg);
    assertProjectAccess(by, projectId, 'read', `list its ${pluralLabel(def)}`);
    const { first, after } = pageArgs(args.first, args.after, cursorShapes.nameId);
    const qb = () => {
      const q = this.ds
        .getRepository(ResourceEntity)
        .createQueryBuilder('r')
        .where('r.project_id = :projectId AND r.kind = :kind', { projectId, kind: def.kind });
      const search = args.search?.trim();
      if (search) {
        const like = `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
        q.andWhere(`(r.name ILIKE :like OR r.config->>'url' ILIKE :like OR r.config->>'apiServerUrl' ILIKE :like)`, { like });
      }
      return q;
    };
    const page = qb().orderBy('lower(r.name)').addOrderBy('r.id').limit(first + 1);
    if (after) page.andWhere('(lower(r.name), r.id) > (:afterName, :afterId)', { afterName: after[0], afterId: after[1] });
    const [rows, totalCount] = await Promise.all([page.getMany(), qb().getCount()]);
    return connectionOf(rows, first, after, totalCount, (r) => [r.name.toLowerCase(), r.id]);
  }

  /** Probes the real endpoint with the stored credentials; a failure is a result, not an error. */
  async test(def: KindDefinition, id: string, by: Identity): Promise<ProbeResult> {
    const row = await this.getOrThrow(def, id);
    assertProjectAccess(by, row.projectId, 'admin', `test ${def.label} ${id}`);
    const resolved = def.resolved(row, openSecrets(this.box, row));
    const started = performance.now();
    try {
      const outcome = await def.probe(resolved, { timeoutMs: this.config.PROBE_TIMEOUT_MS, outbound: this.config.OUTBOUND_ALLOW });
      return { ok: true, message: outcome.message, latencyMs: Math.round(performance.now() - started), details: outcome.details ?? null };
    } catch (err) {
      const failure = err instanceof ProbeFailure ? err : new ProbeFailure(`probe failed: ${(err as Error).message}`, 'PROTOCOL');
      return { ok: false, message: this.redact(failure.message, row), latencyMs: Math.round(performance.now() - started), details: { reason: failure.reason, ...failure.details } };
    }
  }

  /** Belt and braces: no stored secret may appear in a probe message. */
  private redact(message: string, row: ResourceEntity): string {
    let out = message;
    for (const secret of Object.values(openSecrets(this.box, row))) if (secret.length >= 4) out = out.split(secret).join('***');
    return out;
  }

  private async lockOrThrow(tx: EntityManager, def: KindDefinition, id: string): Promise<ResourceEntity> {
    const row = isUuid(id) ? await tx.getRepository(ResourceEntity).createQueryBuilder('r').where('r.id = :id AND r.kind = :kind', { id, kind: def.kind }).setLock('pessimistic_write').getOne() : null;
    if (!row) throw new DomainError('NOT_FOUND', `no ${def.label} with id "${id}"`, { id });
    return row;
  }

  private async assertNameFree(tx: EntityManager, def: KindDefinition, projectId: string, name: string, id: string): Promise<void> {
    const clash = await tx
      .getRepository(ResourceEntity)
      .createQueryBuilder('r')
      .where('r.project_id = :projectId AND r.kind = :kind AND lower(r.name) = lower(:name) AND r.id <> :id', { projectId, kind: def.kind, name, id })
      .getOne();
    if (clash) this.conflict(def, name, clash.id);
  }

  private rethrowConflict(err: unknown, def: KindDefinition, name: string): never {
    if ((err as { code?: string }).code === '23505') this.conflict(def, name);
    throw err;
  }

  private conflict(def: KindDefinition, name: string, clashId?: string): never {
    throw new EnvironmentsError('NAME_TAKEN', `a ${def.label} named "${name}" already exists in this project${clashId ? ` (id ${clashId})` : ''}; choose another name`, {
      field: 'input.name',
      conflictingId: clashId,
    });
  }

  private async assertUnreferenced(def: KindDefinition, row: ResourceEntity): Promise<void> {
    let pipelines: { id: string; name: string }[];
    try {
      ({ pipelines } = await this.bus.request('rpc.pipelines.references', { kind: def.kind, id: row.id }, { timeoutMs: this.config.REFERENCES_TIMEOUT_MS }));
    } catch {
      throw new DomainError(
        'UNAVAILABLE',
        `cannot check which pipelines use ${def.label} "${row.name}": the pipelines service did not answer; retry, or pass force: true to delete it anyway`,
      );
    }
    if (pipelines.length) {
      const listed = pipelines.slice(0, 20).map((p) => `"${p.name}" (${p.id})`).join(', ');
      throw new EnvironmentsError('RESOURCE_IN_USE', `${def.label} "${row.name}" is used by ${pipelines.length} pipeline(s): ${listed}; remove it from them first, or pass force: true`, {
        pipelines,
      });
    }
  }

  private emit(tx: EntityManager, def: KindDefinition, row: ResourceEntity, change: 'created' | 'updated' | 'deleted', by: Identity) {
    const subject = `evt.environments.${def.kind}.changed.v1` as EventSubject;
    return writeOutbox(tx, subject, { id: row.id, name: row.name, change, by: by.sub, at: new Date().toISOString() });
  }
}
