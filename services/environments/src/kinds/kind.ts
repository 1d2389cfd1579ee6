import type { OutboundPolicy } from '@pipewright/platform';
import type { Type } from '@nestjs/common';
import type { EnvironmentKind, QuerySubject } from '@pipewright/contracts';

/** The resolve subjects, one per kind. */
export type ResolveSubject = Extract<QuerySubject, `rpc.environments.${EnvironmentKind}.resolve`>;
import type { z } from 'zod';
import type { ProbeOutcome } from '../probes/probe-result.model';
import { projectRef } from '../projects/project-ref.model';
import type { ResourceEntity } from '../resources/resource.entity';

/** Settings of a resource: its plain fields and its secrets, as validated (without the name). */
export type Settings = Record<string, unknown>;

export interface ProbeContext {
  timeoutMs: number;
  /** What URLs a project admin sets may reach besides public addresses (OUTBOUND_ALLOW); the kinds pipelines call through (Jenkins, chart repositories) probe behind it. */
  outbound: OutboundPolicy;
}

/**
 * Everything that differs between environment resource kinds. The service, the resolvers, the
 * NATS resolver and rotation are shared; a kind is one file that fills this in.
 */
export interface KindDefinition<TResolved = unknown> {
  kind: EnvironmentKind;
  /** GraphQL names: type, singular query, plural query (e.g. SourceRepository, sourceRepository, sourceRepositories). */
  typeName: string;
  singular: string;
  plural: string;
  /** For messages: "source repository". */
  label: string;
  /** Fields sealed at rest and never returned through GraphQL. */
  secretFields: readonly string[];
  /** The whole input (name + settings), applied to create input and to a merged update. */
  schema: z.ZodType<{ name: string } & Settings, z.ZodTypeDef, unknown>;
  /** Expands shorthand input before validation (a pasted kubeconfig); throws DomainError. */
  prepare?(input: Record<string, unknown>): Record<string, unknown>;
  /** The GraphQL object and inputs. */
  model: Type<unknown>;
  createInput: Type<unknown>;
  updateInput: Type<unknown>;
  toModel(row: ResourceEntity): unknown;
  /** The resource with decrypted secrets, as services receive it over NATS. */
  resolved(row: ResourceEntity, secrets: Record<string, string>): TResolved;
  resolveSubject: ResolveSubject;
  /** Probes the real endpoint; throws ProbeFailure saying what failed. */
  probe(resource: TResolved, ctx: ProbeContext): Promise<ProbeOutcome>;
}

/** "source repositories", "build tools": the label of several. */
export const pluralLabel = (def: Pick<KindDefinition, 'label'>) => `${def.label.replace(/y$/, 'ie')}s`;

/** Fields every resource model carries. */
export function baseModel(row: ResourceEntity) {
  return {
    id: row.id,
    projectId: row.projectId,
    project: projectRef(row.projectId),
    name: row.name,
    hasCredentials: Object.keys(row.secrets).length > 0,
    createdAt: row.createdAt,
    createdBy: row.createdBy,
    updatedAt: row.updatedAt,
    updatedBy: row.updatedBy,
    version: row.version,
  };
}
