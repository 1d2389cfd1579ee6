import type { ApolloServer } from '@apollo/server';
import { parseMessage, subjects } from '@pipewright/contracts';
import type { JsonLogger } from '@pipewright/platform';
import {
  GraphQLError,
  Kind,
  print,
  valueFromASTUntyped,
  type ExecutionArgs,
  type ExecutionResult,
  type FieldNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { connect, type NatsConnection, type Subscription } from 'nats';
import type { GatewayContext } from './auth';

/** The subscription fields the gateway serves; their payloads are resolved through the supergraph. */
export const SUBSCRIPTION_SDL = `
  type Subscription {
    "The run's current state, then its state after every change (ordered by Run.sequence)."
    runUpdated(runId: ID!, "Skip the first delivery unless the run moved past this sequence (reconnects)." afterSequence: Int): Run!
    "Every run of the pipeline, each time it or one of its stages changes."
    runsUpdated(pipelineId: ID!): Run!
  }
`;

interface Sink {
  push(result: ExecutionResult): void;
  lastSequence: number;
}

interface Group {
  field: 'runUpdated' | 'runsUpdated';
  selection: string;
  context: GatewayContext;
  sinks: Set<Sink>;
  /** Serializes the queries of one group so deliveries stay in order. */
  chain: Promise<void>;
}

/**
 * Feeds `runUpdated` / `runsUpdated` from the executions events on NATS. Subscribers that ask
 * for the same thing with the same selection share one query per event: the run is resolved once
 * through the supergraph and the result fanned out. A delivery carries a sequence no lower than
 * the last one, so a subscriber never sees a run go backwards.
 */
export class RunUpdates {
  private nc?: NatsConnection;
  private subs: Subscription[] = [];
  private readonly groups = new Map<string, Group>();

  constructor(
    private readonly graph: () => ApolloServer<GatewayContext> | null,
    private readonly log: JsonLogger,
  ) {}

  async start(natsUrl: string, prefix: string): Promise<void> {
    this.nc = await connect({ servers: natsUrl.split(','), name: 'gateway', maxReconnectAttempts: -1 });
    for (const subject of ['evt.executions.run.status-changed.v1', 'evt.executions.stage.status-changed.v1'] as const) {
      this.subs.push(
        this.nc.subscribe(`${prefix}.${subject}`, {
          callback: (err, msg) => {
            if (err) return;
            try {
              const event = parseMessage(subject, subjects[subject].payload, msg.json());
              this.onEvent(event.runId, event.pipelineId);
            } catch (e) {
              this.log.warn({ message: `dropped an invalid ${subject}`, error: (e as Error).message }, 'RunUpdates');
            }
          },
        }),
      );
    }
  }

  async stop(): Promise<void> {
    for (const s of this.subs) s.unsubscribe();
    await this.nc?.drain().catch(() => undefined);
  }

  /** graphql-ws `subscribe`: an async iterator of results for one subscription operation. */
  subscribe(args: ExecutionArgs): AsyncIterableIterator<ExecutionResult> | ExecutionResult {
    if (!this.nc) return { errors: [new GraphQLError('subscriptions are not available: the gateway has no NATS_URL', { extensions: { code: 'SERVICE_UNAVAILABLE' } })] };
    const op = args.document.definitions.find(
      (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION && (!args.operationName || d.name?.value === args.operationName),
    );
    const field = op?.selectionSet.selections[0] as FieldNode | undefined;
    if (!op || !field || op.selectionSet.selections.length !== 1 || field.kind !== Kind.FIELD) {
      return { errors: [new GraphQLError('a subscription selects exactly one field', { extensions: { code: 'BAD_USER_INPUT' } })] };
    }
    const name = field.name.value as Group['field'];
    const argValues = Object.fromEntries((field.arguments ?? []).map((a) => [a.name.value, valueFromASTUntyped(a.value, args.variableValues as Record<string, unknown>)]));
    const alias = field.alias?.value ?? name;
    const key = name === 'runUpdated' ? String(argValues.runId) : String(argValues.pipelineId);
    const selection = print(withSequence(field.selectionSet!));
    const context = args.contextValue as GatewayContext;

    const queue: ExecutionResult[] = [];
    let wake: (() => void) | null = null;
    let done = false;
    const sink: Sink = {
      lastSequence: typeof argValues.afterSequence === 'number' ? argValues.afterSequence : -1,
      push: (result) => {
        queue.push(result);
        wake?.();
      },
    };
    const groupKey = `${name}|${key}|${selection}`;
    let group = this.groups.get(groupKey);
    if (!group) {
      group = { field: name, selection, context, sinks: new Set(), chain: Promise.resolve() };
      this.groups.set(groupKey, group);
    }
    group.sinks.add(sink);
    const g = group;
    // The current state first, queried with this subscriber's own identity (its authorization).
    if (name === 'runUpdated') {
      void this.query(selection, String(argValues.runId), context).then((result) => this.deliver(sink, result, g.field));
    }
    const cleanup = () => {
      done = true;
      g.sinks.delete(sink);
      if (!g.sinks.size) this.groups.delete(groupKey);
      wake?.();
    };
    const iterator: AsyncIterableIterator<ExecutionResult> = {
      [Symbol.asyncIterator]() {
        return iterator;
      },
      async next() {
        while (!queue.length && !done) await new Promise<void>((r) => (wake = r));
        wake = null;
        if (done && !queue.length) return { value: undefined, done: true };
        const value = queue.shift()!;
        return { value: value.data ? { data: { [alias]: (value.data as Record<string, unknown>).run } } : value, done: false };
      },
      async return() {
        cleanup();
        return { value: undefined, done: true };
      },
      async throw(err) {
        cleanup();
        throw err;
      },
    };
    return iterator;
  }

  private onEvent(runId: string, pipelineId: string) {
    for (const [key, group] of this.groups) {
      const [field, id] = key.split('|');
      if ((field === 'runUpdated' && id === runId) || (field === 'runsUpdated' && id === pipelineId)) {
        group.chain = group.chain.then(async () => {
          const result = await this.query(group.selection, runId, group.context);
          for (const sink of group.sinks) this.deliver(sink, result, group.field);
        });
      }
    }
  }

  private deliver(sink: Sink, result: ExecutionResult, field: Group['field']) {
    const run = (result.data as { run?: { sequence?: number } | null } | null | undefined)?.run;
    if (result.errors?.length || !run) {
      if (field === 'runUpdated') sink.push(result.errors?.length ? result : { errors: [new GraphQLError('no such run', { extensions: { code: 'NOT_FOUND' } })] });
      return;
    }
    if (field === 'runUpdated') {
      if ((run.sequence ?? 0) <= sink.lastSequence) return;
      sink.lastSequence = run.sequence ?? 0;
    }
    sink.push(result);
  }

  private async query(selection: string, runId: string, context: GatewayContext): Promise<ExecutionResult> {
    const server = this.graph();
    if (!server) return { errors: [new GraphQLError('the gateway is still composing the subgraphs')] };
    const response = await server.executeOperation({ query: `query RunUpdate($id: ID!) { run(id: $id) ${selection} }`, variables: { id: runId } }, { contextValue: context });
    return response.body.kind === 'single' ? (response.body.singleResult as ExecutionResult) : { errors: [new GraphQLError('unexpected incremental result')] };
  }
}

/** The selection plus `sequence`, which orders deliveries (harmless when the client asked for it too). */
function withSequence(selection: SelectionSetNode): SelectionSetNode {
  const has = selection.selections.some((s) => s.kind === Kind.FIELD && s.name.value === 'sequence' && !s.alias);
  if (has) return selection;
  return { ...selection, selections: [...selection.selections, { kind: Kind.FIELD, name: { kind: Kind.NAME, value: 'sequence' } }] };
}
