import { Inject, Injectable } from '@nestjs/common';
import { isUuid, type EnvironmentKind } from '@pipewright/contracts';
import { DataSource, In } from 'typeorm';
import { KINDS } from '../kinds';
import type { KindDefinition } from '../kinds/kind';
import type { SecretBox } from '@pipewright/platform';
import { SECRET_BOX } from '../tokens';
import { ResourceEntity } from './resource.entity';
import { openSecrets } from './resource-secrets';

type Ref = { kind: EnvironmentKind; id: string };

/**
 * What services on the bus ask about resources: which exist (and in which project), the
 * credentials of one, the registry of a host, how much a project holds. With a projectId, a
 * resource of another project is treated as absent, so no service can use it for that project.
 */
@Injectable()
export class ResourceLookupService {
  constructor(
    private readonly ds: DataSource,
    @Inject(SECRET_BOX) private readonly box: SecretBox,
  ) {}

  /** Which of `refs` name no resource of that kind, and (with projectId) which are another project's. */
  async exists(refs: Ref[], projectId?: string): Promise<{ missing: Ref[]; otherProject: Ref[] }> {
    const ids = [...new Set(refs.map((r) => r.id).filter(isUuid))];
    const found: { id: string; kind: string; project_id: string }[] = ids.length
      ? await this.ds.query('SELECT id::text, kind, project_id::text FROM resources WHERE id = ANY($1::uuid[])', [ids])
      : [];
    const projectOf = new Map(found.map((f) => [`${f.kind}/${f.id}`, f.project_id]));
    const missing: Ref[] = [];
    const otherProject: Ref[] = [];
    for (const r of refs) {
      const owner = projectOf.get(`${r.kind}/${r.id}`);
      if (owner === undefined) missing.push(r);
      else if (projectId && owner !== projectId) otherProject.push(r);
    }
    return { missing, otherProject };
  }

  /** The resource with decrypted credentials; null when there is none (in `projectId`, when given). */
  async resolve(def: KindDefinition, id: string, projectId?: string): Promise<unknown> {
    if (!isUuid(id)) return null;
    const row = await this.ds.getRepository(ResourceEntity).findOneBy({ id, kind: def.kind, ...(projectId ? { projectId } : {}) });
    return row ? def.resolved(row, openSecrets(this.box, row)) : null;
  }

  /**
   * The image registry whose URL names this host[:port], with credentials (the oldest when several
   * do; only `projectId`'s when given): a deploy reads tags from the registry an image names.
   */
  async registryForHost(def: KindDefinition, host: string, hostOf: (url: string) => string | null, projectId?: string): Promise<unknown> {
    const rows = await this.ds.getRepository(ResourceEntity).find({ where: { kind: def.kind, ...(projectId ? { projectId } : {}) }, order: { createdAt: 'ASC' } });
    const row = rows.find((r) => hostOf(String(r.config.url)) === host.toLowerCase());
    return row ? def.resolved(row, openSecrets(this.box, row)) : null;
  }

  /** The values of a project's secrets by name; the names it has no secret for are listed in `missing`. */
  async secretValues(projectId: string, names: string[]): Promise<{ values: Record<string, string>; missing: string[] }> {
    const rows = await this.ds.getRepository(ResourceEntity).find({ where: { kind: 'secret', projectId, name: In(names) } });
    const values: Record<string, string> = {};
    for (const row of rows) values[row.name] = openSecrets(this.box, row).value ?? '';
    return { values, missing: names.filter((n) => !(n in values)) };
  }

  /** How many resources of each kind a project holds, by plural (`{ sourceRepositories: 2, ... }`). */
  async usage(projectId: string): Promise<Record<string, number>> {
    const rows: { kind: string; n: number }[] = await this.ds.query('SELECT kind, count(*)::int AS n FROM resources WHERE project_id = $1 GROUP BY kind', [projectId]);
    const byKind = new Map(rows.map((r) => [r.kind, r.n]));
    return Object.fromEntries(KINDS.map((def) => [def.plural, byKind.get(def.kind) ?? 0]));
  }
}
