import { Injectable } from '@nestjs/common';
import { isUuid, type EnvironmentKind } from '@pipewright/contracts';
import { MessageBus } from '@pipewright/messaging';
import { DomainError, type FieldProblem } from '@pipewright/platform';
import { DataSource, In, IsNull, type EntityManager } from 'typeorm';
import { PipelineEntity } from './pipeline.entity';
import type { LocatedReference } from './pipeline-validation';

const ENV_LABEL: Record<EnvironmentKind, string> = {
  'source-repository': 'source repository',
  'build-tool': 'build tool',
  'image-registry': 'image registry',
  'chart-repository': 'chart repository',
  'deployment-target': 'deployment target',
  secret: 'secret',
};

/**
 * What pipelines refer to: the checks on save (environment resources and Run Pipeline targets
 * exist and are the pipeline's own project's, no pipeline runs itself through others) and who
 * refers to a resource (delete protection).
 */
@Injectable()
export class PipelineReferenceService {
  constructor(
    private readonly ds: DataSource,
    private readonly bus: MessageBus,
  ) {}

  /** The pipelines whose current revision uses a resource (an environment resource or a pipeline). */
  referencing(kind: string, resourceId: string, m: EntityManager = this.ds.manager): Promise<{ id: string; name: string }[]> {
    return m.query(
      `SELECT p.id::text AS id, p.name FROM pipeline_references r JOIN pipelines p ON p.id = r.pipeline_id
       WHERE r.kind = $1 AND r.resource_id = $2 AND p.deleted_at IS NULL ORDER BY lower(p.name)`,
      [kind, resourceId],
    );
  }

  /**
   * Problems with what the stages refer to: environment resources that do not exist or belong to
   * another project, and Run Pipeline targets that do not exist, are another project's, or would
   * run this pipeline again.
   */
  async problems(references: LocatedReference[], selfId: string, projectId: string): Promise<FieldProblem[]> {
    const problems: FieldProblem[] = [];
    const env = references.filter((r): r is LocatedReference & { kind: EnvironmentKind } => r.kind !== 'pipeline');
    if (env.length) {
      let reply: { missing: { kind: EnvironmentKind; id: string }[]; otherProject: { kind: EnvironmentKind; id: string }[] };
      try {
        reply = await this.bus.request('rpc.environments.exists', { refs: env.map(({ kind, id }) => ({ kind, id })), projectId }, { timeoutMs: 5000 });
      } catch {
        throw new DomainError('UNAVAILABLE', 'cannot check the environment resources this pipeline uses: the environments service did not answer; try again');
      }
      const key = (r: { kind: string; id: string }) => `${r.kind}/${r.id}`;
      const gone = new Set(reply.missing.map(key));
      const foreign = new Set(reply.otherProject.map(key));
      for (const r of env) {
        if (gone.has(key(r))) problems.push({ field: r.field, message: `names no ${ENV_LABEL[r.kind]} (id "${r.id}"); pick one from environment settings` });
        else if (foreign.has(key(r))) {
          problems.push({ field: r.field, message: `names a ${ENV_LABEL[r.kind]} (id "${r.id}") that belongs to another project; a pipeline may only use the environment resources of its own project` });
        }
      }
    }
    const runs = references.filter((r) => r.kind === 'pipeline' && r.id !== selfId);
    if (runs.length) {
      const ids = [...new Set(runs.map((r) => r.id).filter(isUuid))];
      const alive = ids.length ? await this.ds.getRepository(PipelineEntity).findBy({ id: In(ids), deletedAt: IsNull() }) : [];
      const found = new Map(alive.map((p) => [p.id, p]));
      const graph = await this.pipelineGraph();
      for (const r of runs) {
        const target = found.get(r.id);
        if (!target) {
          problems.push({ field: r.field, message: `names no pipeline (id "${r.id}")` });
          continue;
        }
        if (target.projectId !== projectId) {
          problems.push({ field: r.field, message: `names a pipeline (id "${r.id}") that belongs to another project; Run Pipeline may only run pipelines of the same project` });
          continue;
        }
        const path = findPath(graph, r.id, selfId);
        if (path) {
          const allNames = await this.namesOf(path);
          problems.push({ field: r.field, message: `would run this pipeline again: ${path.map((p) => (p === selfId ? 'this pipeline' : `"${allNames.get(p) ?? p}"`)).join(' → ')}` });
        }
      }
    }
    return problems;
  }

  private async pipelineGraph(): Promise<Map<string, string[]>> {
    const rows: { from: string; to: string }[] = await this.ds.query(
      `SELECT r.pipeline_id::text AS "from", r.resource_id AS "to" FROM pipeline_references r JOIN pipelines p ON p.id = r.pipeline_id WHERE r.kind = 'pipeline' AND p.deleted_at IS NULL`,
    );
    const graph = new Map<string, string[]>();
    for (const { from, to } of rows) graph.set(from, [...(graph.get(from) ?? []), to]);
    return graph;
  }

  private async namesOf(ids: string[]): Promise<Map<string, string>> {
    const rows = await this.ds.getRepository(PipelineEntity).findBy({ id: In(ids.filter(isUuid)) });
    return new Map(rows.map((p) => [p.id, p.name]));
  }
}

/** A path from `from` to `to` in a directed graph, or null. */
export function findPath(graph: Map<string, string[]>, from: string, to: string): string[] | null {
  const prev = new Map<string, string>();
  const queue = [from];
  const seen = new Set([from]);
  while (queue.length) {
    const node = queue.shift()!;
    if (node === to) {
      const path = [to];
      while (path[0] !== from) path.unshift(prev.get(path[0])!);
      return path;
    }
    for (const next of graph.get(node) ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        prev.set(next, node);
        queue.push(next);
      }
    }
  }
  return null;
}
