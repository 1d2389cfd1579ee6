import { z } from 'zod';
import { buildCancelSchema, buildFinishedSchema, buildLogLiveSchema, buildStartSchema } from './builds';
import { command, event, live, query, type MessageDefinition, type SubjectKind } from './define';
import {
  referencesReplySchema,
  referencesRequestSchema,
  registryForHostReplySchema,
  registryForHostRequestSchema,
  resolveRequestSchema,
  resolvedBuildToolSchema,
  resolvedChartRepositorySchema,
  resolvedDeploymentTargetSchema,
  resolvedImageRegistrySchema,
  resolvedSecretSchema,
  resolvedSourceRepositorySchema,
  secretValuesReplySchema,
  secretValuesRequestSchema,
} from './environments';
import { runStatusChangedSchema, stageStatusChangedSchema } from './executions';
import { existsReplySchema, existsRequestSchema, pipelineSnapshotRequestSchema, pipelineSnapshotSchema } from './pipelines';
import {
  apiTokenChangedSchema,
  apiTokenVerifyReplySchema,
  apiTokenVerifyRequestSchema,
  memberChangedSchema,
  membershipsReplySchema,
  membershipsRequestSchema,
  projectChangedSchema,
  projectUsageReplySchema,
  projectUsageRequestSchema,
} from './projects';
import { runStartRefusedSchema, runStartSchema } from './triggers';

/** The services of the platform; each owns the subjects that carry its name. */
export const serviceNameSchema = z.enum(['projects', 'environments', 'pipelines', 'executions', 'builds', 'triggers']);
export type ServiceName = z.infer<typeof serviceNameSchema>;


const isoDate = z.string().datetime({ offset: true });

const environmentChanged = event(
  z.object({
    id: z.string().uuid(),
    name: z.string().min(1),
    change: z.enum(['created', 'updated', 'deleted']),
    by: z.string().min(1),
    at: isoDate,
  }),
);

/**
 * Every NATS subject, without the `NATS_PREFIX` that starts it on the wire, bound to its schema.
 * A `.v1` schema is never edited in place: a changed payload gets a `.v2` subject.
 */
export const subjects = {
  'evt.environments.source-repository.changed.v1': environmentChanged,
  'evt.environments.build-tool.changed.v1': environmentChanged,
  'evt.environments.image-registry.changed.v1': environmentChanged,
  'evt.environments.chart-repository.changed.v1': environmentChanged,
  'evt.environments.deployment-target.changed.v1': environmentChanged,
  'evt.environments.secret.changed.v1': environmentChanged,

  /** A resource with its decrypted credentials, for services on the bus only (never GraphQL). */
  'rpc.environments.source-repository.resolve': query(resolveRequestSchema, resolvedSourceRepositorySchema),
  'rpc.environments.build-tool.resolve': query(resolveRequestSchema, resolvedBuildToolSchema),
  'rpc.environments.image-registry.resolve': query(resolveRequestSchema, resolvedImageRegistrySchema),
  'rpc.environments.chart-repository.resolve': query(resolveRequestSchema, resolvedChartRepositorySchema),
  'rpc.environments.deployment-target.resolve': query(resolveRequestSchema, resolvedDeploymentTargetSchema),
  'rpc.environments.secret.resolve': query(resolveRequestSchema, resolvedSecretSchema),
  /** The values of the secrets a running stage names (`${secrets.NAME}`), in its run's project. */
  'rpc.environments.secret.values': query(secretValuesRequestSchema, secretValuesReplySchema),
  'rpc.environments.image-registry.for-host': query(registryForHostRequestSchema, registryForHostReplySchema),

  /** Source, Build and Bake stages, carried out by the builds service. */
  'cmd.builds.build.start.v1': command(buildStartSchema),
  'cmd.builds.build.cancel.v1': command(buildCancelSchema),
  'evt.builds.build.finished.v1': event(buildFinishedSchema),
  /** Build log lines as they are stored; the suffix is the build id. */
  'live.builds.log': live(buildLogLiveSchema),

  'evt.executions.run.status-changed.v1': event(runStatusChangedSchema),
  'evt.executions.stage.status-changed.v1': event(stageStatusChangedSchema),

  /** Which of these environment resources do not exist (pipeline validation; no secrets). */
  'rpc.environments.exists': query(existsRequestSchema, existsReplySchema),

  'evt.pipelines.pipeline.changed.v1': event(
    z.object({
      id: z.string().uuid(),
      name: z.string(),
      revision: z.number().int(),
      change: z.enum(['created', 'updated', 'deleted', 'restored', 'imported']),
      by: z.string().min(1),
      at: isoDate,
    }),
  ),
  /** A frozen revision of a pipeline, for a run (the latest when no revision is given). */
  'rpc.pipelines.pipeline.snapshot': query(pipelineSnapshotRequestSchema, pipelineSnapshotSchema),

  /** The pipelines that reference an environment resource (delete protection). */
  'rpc.pipelines.references': query(referencesRequestSchema, referencesReplySchema),

  'evt.projects.project.changed.v1': event(projectChangedSchema),
  'evt.projects.member.changed.v1': event(memberChangedSchema),
  'evt.projects.api-token.changed.v1': event(apiTokenChangedSchema),
  /** The caller's memberships, asked by the gateway once per request. */
  'rpc.projects.memberships': query(membershipsRequestSchema, membershipsReplySchema),
  /** An API token presented as a Bearer token at the gateway: valid (its project and roles) or why not. */
  'rpc.projects.api-token.verify': query(apiTokenVerifyRequestSchema, apiTokenVerifyReplySchema),
  /** Whether a project exists (before a platform ADMIN creates something in a project he is not a member of). */
  'rpc.projects.project.exists': query(z.object({ projectId: z.string().uuid() }), z.object({ exists: z.boolean() })),
  /** What each service holds of a project: deleteProject is refused while any count is above zero. */
  'rpc.environments.project.usage': query(projectUsageRequestSchema, projectUsageReplySchema),
  'rpc.pipelines.project.usage': query(projectUsageRequestSchema, projectUsageReplySchema),
  'rpc.executions.project.usage': query(projectUsageRequestSchema, projectUsageReplySchema),
  'rpc.builds.project.usage': query(projectUsageRequestSchema, projectUsageReplySchema),

  /** Liveness of a service over the bus: the gateway and operators ask it. */
  'rpc.projects.ping': query(z.object({ from: z.string() }), z.object({ service: z.literal('projects'), at: isoDate })),
  'rpc.environments.ping': query(z.object({ from: z.string() }), z.object({ service: z.literal('environments'), at: isoDate })),
  'rpc.pipelines.ping': query(z.object({ from: z.string() }), z.object({ service: z.literal('pipelines'), at: isoDate })),
  'rpc.executions.ping': query(z.object({ from: z.string() }), z.object({ service: z.literal('executions'), at: isoDate })),
  'rpc.builds.ping': query(z.object({ from: z.string() }), z.object({ service: z.literal('builds'), at: isoDate })),
  'rpc.triggers.ping': query(z.object({ from: z.string() }), z.object({ service: z.literal('triggers'), at: isoDate })),
  'rpc.triggers.project.usage': query(projectUsageRequestSchema, projectUsageReplySchema),

  /** A trigger's delivery starts a run (sent by triggers through its outbox; executions makes the run once). */
  'cmd.executions.run.start.v1': command(runStartSchema),
  'evt.executions.run.start-refused.v1': event(runStartRefusedSchema),
} as const;

export type Subjects = typeof subjects;
export type Subject = keyof Subjects;
type KindOf<S extends Subject> = Subjects[S]['kind'];
export type EventSubject = { [S in Subject]: KindOf<S> extends 'event' ? S : never }[Subject];
export type CommandSubject = { [S in Subject]: KindOf<S> extends 'command' ? S : never }[Subject];
export type QuerySubject = { [S in Subject]: KindOf<S> extends 'query' ? S : never }[Subject];
export type LiveSubject = { [S in Subject]: KindOf<S> extends 'live' ? S : never }[Subject];
/** Subjects that travel through JetStream, and so through the outbox. */
export type DurableSubject = EventSubject | CommandSubject;
export type PayloadOf<S extends Subject> = z.infer<Subjects[S]['payload']>;
export type ReplyOf<S extends QuerySubject> = z.infer<Subjects[S]['reply']>;

export function isSubject(name: string): name is Subject {
  return Object.prototype.hasOwnProperty.call(subjects, name);
}

/** The definition of a subject, widened for code that handles any subject generically. */
export function definitionOf(subject: Subject): MessageDefinition<SubjectKind, z.ZodTypeAny, z.ZodTypeAny> {
  return subjects[subject] as MessageDefinition<SubjectKind, z.ZodTypeAny, z.ZodTypeAny>;
}
