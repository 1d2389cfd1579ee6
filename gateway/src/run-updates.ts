import type { ApolloServer } from '@apollo/server';
import { parseMessage, subjects } from '@pipewright/contracts';
import type { JsonLogger } from '@pipewright/platform';
import {
  GraphQLError,
  Kind,
  print,
  type ExecutionArgs,
  type ExecutionResult,
  type FieldNode,
  type SelectionSetNode,
} from 'graphql';
import { connectNats, type NatsCredentials } from '@pipewright/messaging';
import type { NatsConnection, Subscription } from 'nats';
import type { GatewayContext } from './auth';
import { pushIterator } from './push-iterator';
import { fieldArguments, inlineFragments } from './subscription-field';

/** The subscription fields the gateway serves; their payloads are resolved through the supergraph. */
export const SUBSCRIPTION_SDL = `
  type Subscription {
    "The run's current state, then its state after every change (ordered by Run.sequence)."
    runUpdated(runId: ID!, "Skip the first delivery unless the run moved past this sequence (reconnects)." afterSequence: Int): Run!
    "Every run of the pipeline, each time it or one of its stages changes."
    runsUpdated(pipelineId: ID!): Run!
    "A build's log: the stored lines from fromOffset, then each line as it is written; the last delivery has complete: true."
    buildLog(buildId: ID!, fromOffset: Int = 0): BuildLogPage!
  }
`;

interface Sink {
  push(result: ExecutionResult): void;
  /** Completes the subscription (after what was pushed). */
  end(): void;
  /** runUpdated: the highest sequence delivered to this subscriber. */
  lastSequence: number;
  /** False until its current state (and replay) has been delivered. */
  ready: boolean;
}

interface Group {
  field: 'runUpdated' | 'runsUpdated';
  /** The run (runUpdated) or pipeline (runsUpdated) it follows. */
  id: string;
  selection: string;
  context: GatewayContext;
  sinks: Set<Sink>;
  /** Serializes the queries of one group so deliveries stay in order. */
  chain: Promise<void>;
  /** Per run: the highest sequence this group has resolved. */
  cursors: Map<string, number>;
}

/** At most this many past states are replayed at once (a reconnect after a long absence, a burst). */
const MAX_REPLAY = 500;
/** runsUpdated groups remember the cursors of at most this many runs. */
const MAX_CURSORS = 10_000;

/** Counts the supergraph queries subscriptions cost (`initial`: a subscriber's first state; `event`: one per group per state). */
export interface SubscriptionQueryCounter {
  inc(labels: { field: string; kind: 'initial' | 'event' }): void;
}

/**
 * Feeds `runUpdated` / `runsUpdated` from the executions events on NATS. Each event carries the
 * run's sequence; the gateway resolves the run *as it was at that sequence* (`run(id, atSequence)`,
 * from the executions service's run history) through the supergraph, so every state reaches a
 * subscriber in order, none merged away, and a gap (an event that arrived late or out of order,
 * a reconnect with `afterSequence`) is filled from the history. Subscribers that ask for the
 * same thing with the same selection share one query per state: the result is fanned out.
 */
export class RunUpdates {
  private nc?: NatsConnection;
  private prefix?: string;
  private subs: Subscription[] = [];
  private readonly groups = new Map<string, Group>();

  constructor(
    private readonly graph: () => ApolloServer<GatewayContext> | null,
    private readonly log: JsonLogger,
    private readonly counter?: SubscriptionQueryCounter,
  ) {}

  async start(natsUrl: string, prefix: string, credentials: NatsCredentials): Promise<void> {
    this.prefix = prefix;
    this.nc = await connectNats(natsUrl, 'gateway', credentials);
    for (const subject of ['evt.executions.run.status-changed.v1', 'evt.executions.stage.status-changed.v1'] as const) {
      this.subs.push(
        this.nc.subscribe(`${prefix}.${subject}`, {
          callback: (err, msg) => {
            // Every run event of the platform arrives here: with no subscription open, none is read.
            if (err || !this.groups.size) return;
            try {
              const event = parseMessage(subject, subjects[subject].payload, msg.json());
              this.onEvent(event.runId, event.pipelineId, event.sequence);
            } catch (e) {
              this.log.warn({ message: `dropped an invalid ${subject}`, error: (e as Error).message }, 'RunUpdates');
            }
          },
        }),
      );
    }
  }

  /** The NATS connection and subject prefix (for the other live subscriptions), once started. */
  connection(): { nc: NatsConnection; prefix: string } | null {
    return this.nc && this.prefix !== undefined ? { nc: this.nc, prefix: this.prefix } : null;
  }

  async stop(): Promise<void> {
    for (const s of this.subs) s.unsubscribe();
    await this.nc?.drain().catch(() => undefined);
  }

  /** graphql-ws `subscribe`: an async iterator of results for one subscription operation. */
  subscribe(args: ExecutionArgs, field: FieldNode | null): AsyncIterableIterator<ExecutionResult> | ExecutionResult {
    if (!this.nc) return { errors: [new GraphQLError('subscriptions are not available: the gateway has no NATS_URL', { extensions: { code: 'SERVICE_UNAVAILABLE' } })] };
    if (!field) return { errors: [new GraphQLError('a subscription selects exactly one field', { extensions: { code: 'BAD_USER_INPUT' } })] };
    const name = field.name.value as Group['field'];
    const argValues = fieldArguments(field, args);
    const alias = field.alias?.value ?? name;
    const key = name === 'runUpdated' ? String(argValues.runId) : String(argValues.pipelineId);
    const selection = print(withSequence(inlineFragments(field.selectionSet!, args.document)));
    const context = args.contextValue as GatewayContext;

    const afterSequence = typeof argValues.afterSequence === 'number' ? argValues.afterSequence : -1;
    // Callers share a group (and its queries) only when they see the same: same platform roles and
    // memberships. A group's queries run with its first caller's identity, so nobody is ever
    // answered with what another caller may read.
    const groupKey = `${name}|${key}|${selection}|${accessKey(context)}`;
    const out = pushIterator(
      () => {
        g.sinks.delete(sink);
        if (!g.sinks.size && this.groups.get(groupKey) === g) this.groups.delete(groupKey);
      },
      (value) => {
        // Errors from the supergraph arrive as plain objects; graphql-ws serializes GraphQLErrors.
        const raw = value.errors as ReadonlyArray<GraphQLError | { message: string; extensions?: Record<string, unknown> }> | undefined;
        const errors = raw?.map((e) => (e instanceof GraphQLError ? e : new GraphQLError(e.message, { extensions: e.extensions })));
        const data = value.data ? { [alias]: (value.data as Record<string, unknown>).run } : value.data;
        return { ...(data !== undefined ? { data } : {}), ...(errors ? { errors } : {}) };
      },
    );
    const sink: Sink = { lastSequence: afterSequence, ready: false, push: out.push, end: out.end };
    let group = this.groups.get(groupKey);
    if (!group) {
      group = { field: name, id: key, selection, context, sinks: new Set(), chain: Promise.resolve(), cursors: new Map() };
      this.groups.set(groupKey, group);
    }
    const g = group;
    g.sinks.add(sink);
    // The current state first (queried with this subscriber's own identity), after the states it
    // missed when it reconnects with afterSequence; in the group's chain, so nothing overtakes it.
    if (name === 'runUpdated') this.enqueue(g, () => this.catchUp(g, sink, key, afterSequence, context));
    else this.enqueue(g, () => this.checkPipeline(sink, key, context));
    return out.iterator;
  }

  private enqueue(group: Group, job: () => Promise<void>) {
    group.chain = group.chain.then(job).catch((err: Error) => this.log.warn({ message: 'a subscription update failed', error: err.message }, 'RunUpdates'));
  }

  /** A new runUpdated subscriber: the states after `afterSequence` it missed, then the current one. */
  private async catchUp(group: Group, sink: Sink, runId: string, afterSequence: number, context: GatewayContext) {
    this.counter?.inc({ field: group.field, kind: 'initial' });
    const current = await this.query(group.selection, runId, context);
    const sequence = sequenceOf(current);
    if (sequence === null) {
      // No such run, or not the caller's to read (FORBIDDEN): say so once and end the subscription.
      this.deliver(sink, current, group.field);
      sink.end();
      return;
    }
    if (sequence !== null && afterSequence >= 0) {
      for (let s = Math.max(afterSequence + 1, sequence - MAX_REPLAY); s < sequence; s++) {
        this.counter?.inc({ field: group.field, kind: 'initial' });
        const past = await this.queryState(group.selection, runId, context, s);
        if (sequenceOf(past) === s) this.deliver(sink, past, group.field);
        else if (!isMissingState(past)) {
          // Not readable now (not pruned): end with the error rather than skip it; a resubscription with afterSequence fills it in.
          this.deliver(sink, past.errors?.length ? past : { errors: [new GraphQLError(`state ${s} of run ${runId} could not be read; subscribe again with afterSequence`)] }, group.field);
          return;
        }
      }
    }
    this.deliver(sink, current, group.field);
    sink.ready = true;
    if (sequence !== null && !group.cursors.has(runId)) group.cursors.set(runId, sequence);
  }

  /**
   * A new runsUpdated subscriber: the pipeline must be there and the caller's to read (asked with
   * his own identity); otherwise he is told why once and the subscription ends.
   */
  private async checkPipeline(sink: Sink, pipelineId: string, context: GatewayContext) {
    const server = this.graph();
    const response = server
      ? await server.executeOperation({ query: 'query RunsUpdatedPipeline($id: ID!) { pipeline(id: $id) { id } }', variables: { id: pipelineId } }, { contextValue: context })
      : null;
    const result = response?.body.kind === 'single' ? (response.body.singleResult as ExecutionResult) : { errors: [new GraphQLError('the gateway is still composing the subgraphs')] };
    if (result.errors?.length || !(result.data as { pipeline?: unknown } | null | undefined)?.pipeline) {
      sink.push(result.errors?.length ? { data: null, errors: result.errors } : { errors: [new GraphQLError(`no pipeline with id "${pipelineId}"`, { extensions: { code: 'NOT_FOUND' } })] });
      sink.end();
      return;
    }
    sink.ready = true;
  }

  private onEvent(runId: string, pipelineId: string, sequence: number) {
    for (const group of this.groups.values()) {
      if (group.id === (group.field === 'runUpdated' ? runId : pipelineId)) this.resolveUpTo(group, runId, sequence);
    }
  }

  /**
   * Resolves each state of the run this group has not resolved yet, up to `sequence`: the queries
   * start at once (in parallel with the group's earlier ones), the deliveries keep their order.
   */
  private resolveUpTo(group: Group, runId: string, sequence: number) {
    const cursor = group.cursors.get(runId);
    if (cursor !== undefined && sequence <= cursor) return;
    const from = cursor === undefined ? sequence : Math.max(cursor + 1, sequence - MAX_REPLAY);
    group.cursors.delete(runId); // re-inserted last: the map stays ordered by recent use
    group.cursors.set(runId, sequence);
    if (group.cursors.size > MAX_CURSORS) group.cursors.delete(group.cursors.keys().next().value!);
    const results: Promise<ExecutionResult>[] = [];
    for (let s = from; s <= sequence; s++) {
      this.counter?.inc({ field: group.field, kind: 'event' });
      results.push(this.queryState(group.selection, runId, group.context, s));
    }
    this.enqueue(group, async () => {
      for (const pending of results) {
        const result = await pending;
        // A state no longer in the history (pruned) is passed over; the ones after it still arrive.
        if (isMissingState(result)) continue;
        for (const sink of group.sinks) if (sink.ready) this.deliver(sink, result, group.field);
      }
    });
  }

  private deliver(sink: Sink, result: ExecutionResult, field: Group['field']) {
    const run = (result.data as { run?: { sequence?: number } | null } | null | undefined)?.run;
    if (result.errors?.length || !run) {
      if (field === 'runsUpdated') this.log.warn({ message: 'a runsUpdated query failed; that state is not delivered', errors: result.errors?.map((e) => e.message) }, 'RunUpdates');
      if (field === 'runUpdated') {
        // A state that cannot be read now (the executions service restarting, say) ends the
        // subscription with the error rather than leaving a gap: the client resubscribes with
        // afterSequence and is given every state it has not seen.
        sink.push(result.errors?.length ? result : { errors: [new GraphQLError('no such run', { extensions: { code: 'NOT_FOUND' } })] });
        sink.end();
      }
      return;
    }
    if (field === 'runUpdated') {
      if ((run.sequence ?? 0) <= sink.lastSequence) return;
      sink.lastSequence = run.sequence ?? 0;
    }
    sink.push(result);
  }

  /**
   * One past state, asked again a few times (about 3 s in all) when the executions service does not
   * answer (a restart): only then does the subscriber get the error and the end of its subscription.
   */
  private async queryState(selection: string, runId: string, context: GatewayContext, atSequence: number): Promise<ExecutionResult> {
    let result: ExecutionResult = { errors: [] };
    for (let attempt = 0; attempt < 5; attempt++) {
      if (attempt) await new Promise((r) => setTimeout(r, 200 * 2 ** (attempt - 1)));
      result = await this.query(selection, runId, context, atSequence).catch((err: Error) => ({ errors: [new GraphQLError(err.message)] }));
      if (sequenceOf(result) !== null || isMissingState(result) || isRefusal(result)) return result;
    }
    return result;
  }

  private async query(selection: string, runId: string, context: GatewayContext, atSequence?: number): Promise<ExecutionResult> {
    const server = this.graph();
    if (!server) return { errors: [new GraphQLError('the gateway is still composing the subgraphs')] };
    const response = await server.executeOperation(
      { query: `query RunUpdate($id: ID!, $at: Int) { run(id: $id, atSequence: $at) ${selection} }`, variables: { id: runId, at: atSequence ?? null } },
      { contextValue: context },
    );
    return response.body.kind === 'single' ? (response.body.singleResult as ExecutionResult) : { errors: [new GraphQLError('unexpected incremental result')] };
  }
}

/** What decides what a caller may read: platform roles and project memberships (not the subject). */
function accessKey(context: GatewayContext): string {
  const { roles, projects } = context.identity;
  const memberships = [...(projects ?? [])].map((m) => `${m.projectId}:${[...m.roles].sort().join('+')}`).sort();
  return `${[...roles].sort().join('+')}/${memberships.join(',')}`;
}

function sequenceOf(result: ExecutionResult): number | null {
  const run = (result.data as { run?: { sequence?: number } | null } | null | undefined)?.run;
  return typeof run?.sequence === 'number' ? run.sequence : null;
}

/** An answer that asking again will not change: no such run, or not the caller's to read. */
function isRefusal(result: ExecutionResult): boolean {
  return !!result.errors?.some((e) => ['NOT_FOUND', 'FORBIDDEN', 'UNAUTHENTICATED'].includes(String((e.extensions as { code?: string } | undefined)?.code)));
}

/** The executions service answers NOT_FOUND with reason STATE_NOT_RECORDED for a state no longer kept. */
function isMissingState(result: ExecutionResult): boolean {
  return !!result.errors?.some((e) => (e.extensions as { reason?: string } | undefined)?.reason === 'STATE_NOT_RECORDED');
}

/** The selection plus `sequence`, which orders deliveries (harmless when the client asked for it too). */
function withSequence(selection: SelectionSetNode): SelectionSetNode {
  const has = selection.selections.some((s) => s.kind === Kind.FIELD && s.name.value === 'sequence' && !s.alias);
  if (has) return selection;
  return { ...selection, selections: [...selection.selections, { kind: Kind.FIELD, name: { kind: Kind.NAME, value: 'sequence' } }] };
}
