import type { ApolloServer } from '@apollo/server';
import { buildLogLiveSchema, parseMessage, type BuildLogLine, type BuildLogLive } from '@pipewright/contracts';
import type { JsonLogger } from '@pipewright/platform';
import { GraphQLError, type ExecutionArgs, type ExecutionResult, type FieldNode } from 'graphql';
import type { NatsConnection } from 'nats';
import type { GatewayContext } from './auth';
import { pushIterator } from './push-iterator';
import { fieldArguments } from './subscription-field';

/** Lines per catch-up query. */
const PAGE = 1000;

interface Page {
  lines: BuildLogLine[];
  nextOffset: number;
  complete: boolean;
}

/**
 * `buildLog(buildId, fromOffset)`: the stored lines from `fromOffset` first (read through the
 * supergraph with the subscriber's identity), then each line as the build writes it, from
 * `live.builds.log.<buildId>` on NATS, without a gap or a repeat: a live batch that does not
 * follow on is filled from the database first. Ends with `complete: true` once the build has
 * finished and every line was delivered.
 */
export class BuildLogs {
  constructor(
    private readonly graph: () => ApolloServer<GatewayContext> | null,
    private readonly nats: () => { nc: NatsConnection; prefix: string } | null,
    private readonly log: JsonLogger,
  ) {}

  subscribe(args: ExecutionArgs, field: FieldNode): AsyncIterableIterator<ExecutionResult> | ExecutionResult {
    const nats = this.nats();
    if (!nats) return { errors: [new GraphQLError('subscriptions are not available: the gateway has no NATS_URL', { extensions: { code: 'SERVICE_UNAVAILABLE' } })] };
    const argValues = fieldArguments(field, args);
    const buildId = String(argValues.buildId);
    const fromOffset = typeof argValues.fromOffset === 'number' ? argValues.fromOffset : 0;
    if (fromOffset < 0) return { errors: [new GraphQLError('fromOffset must be 0 or more', { extensions: { code: 'BAD_USER_INPUT', field: 'fromOffset' } })] };
    const alias = field.alias?.value ?? field.name.value;
    const context = args.contextValue as GatewayContext;

    let next = fromOffset;
    let chain = Promise.resolve();
    let done = false;
    const out = pushIterator(() => {
      done = true;
      sub.unsubscribe();
    });
    const { push, end: finish } = out;
    /** Reads stored lines from `next` until a short page (caught up) or the end of a finished build. */
    const catchUp = async (): Promise<boolean> => {
      for (;;) {
        const res = await this.query(buildId, next, context);
        if ('errors' in res) {
          push(res);
          finish();
          return true;
        }
        if (res.lines.length || res.complete) push({ data: { [alias]: res } });
        next = res.nextOffset;
        if (res.complete) {
          finish();
          return true;
        }
        if (res.lines.length < PAGE) return false;
      }
    };
    const onLive = async (message: BuildLogLive) => {
      if (done) return;
      const fresh = message.lines.filter((l) => l.offset >= next);
      if (fresh.length && fresh[0].offset > next) {
        if (await catchUp()) return; // a gap (lines stored before this subscriber listened): the database has them
      }
      const lines = message.lines.filter((l) => l.offset >= next);
      if (lines.length) {
        next = lines[lines.length - 1].offset + 1;
        push({ data: { [alias]: { lines, nextOffset: next, complete: false } } });
      }
      if (message.end) {
        if (next < message.end.lineCount && (await catchUp())) return;
        push({ data: { [alias]: { lines: [], nextOffset: next, complete: true } } });
        finish();
      }
    };
    // Listen first, then read what is stored: a line written in between arrives live, and repeats are dropped by offset.
    const sub = nats.nc.subscribe(`${nats.prefix}.live.builds.log.${buildId}`, {
      callback: (err, msg) => {
        if (err) return;
        let message: BuildLogLive;
        try {
          message = parseMessage('live.builds.log', buildLogLiveSchema, msg.json());
        } catch (e) {
          this.log.warn({ message: 'dropped an invalid live build log message', error: (e as Error).message }, 'BuildLogs');
          return;
        }
        chain = chain.then(() => onLive(message)).catch((e: Error) => this.log.warn({ message: 'a build log delivery failed', error: e.message }, 'BuildLogs'));
      },
    });
    chain = chain
      .then(async () => void (await catchUp()))
      .catch((e: Error) => {
        push({ errors: [new GraphQLError(e.message)] });
        finish();
      });
    return out.iterator;
  }

  private async query(buildId: string, offset: number, context: GatewayContext): Promise<Page | { errors: GraphQLError[] }> {
    const server = this.graph();
    if (!server) return { errors: [new GraphQLError('the gateway is still composing the subgraphs', { extensions: { code: 'SERVICE_UNAVAILABLE' } })] };
    const response = await server.executeOperation(
      { query: `query BuildLog($id: ID!, $offset: Int!, $limit: Int!) { build(id: $id) { log(offset: $offset, limit: $limit) { lines { offset at text } nextOffset complete } } }`, variables: { id: buildId, offset, limit: PAGE } },
      { contextValue: context },
    );
    if (response.body.kind !== 'single') return { errors: [new GraphQLError('unexpected incremental result')] };
    const result = response.body.singleResult;
    if (result.errors?.length) return { errors: result.errors.map((e) => new GraphQLError(e.message, { extensions: e.extensions })) };
    const build = (result.data as { build: { log: Page } | null } | undefined)?.build;
    if (!build) return { errors: [new GraphQLError(`no build with id "${buildId}"`, { extensions: { code: 'NOT_FOUND' } })] };
    return build.log;
  }
}
