import {
  definitionOf,
  parseMessage,
  isSubject,
  queryErrorCodeSchema,
  QUERY_ERROR_CODES,
  type MessageValidationError,
  type QueryErrorBody,
  type QueryErrorCode,
  type CommandSubject,
  type DurableSubject,
  type EventSubject,
  type LiveSubject,
  type PayloadOf,
  type QuerySubject,
  type ReplyOf,
  type Subject,
} from '@pipewright/contracts';
import {
  AckPolicy,
  DeliverPolicy,
  ErrorCode,
  JSONCodec,
  RetentionPolicy,
  StorageType,
  nanos,
  type ConsumerConfig,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type NatsError,
  type NatsConnection,
  type PubAck,
  type StreamConfig,
  type Subscription,
} from 'nats';
import { busNames, type BusNames } from './names';

const codec = JSONCodec<unknown>();

/** Minimal logger shape, so the bus works with Nest's logger or a test's recorder. */
export interface BusLogger {
  warn(message: string, context?: Record<string, unknown>): void;
  error(message: string, context?: Record<string, unknown>): void;
}

export interface Delivery {
  /** JetStream stream sequence, unique per stream. */
  seq: number;
  /** How many times this message was delivered (1 the first time). */
  deliveryCount: number;
  /** The `Nats-Msg-Id` it was published with, if any. */
  msgId?: string;
  subject: string;
}

export interface ConsumeOptions {
  /** Durable consumer name, unique per purpose within a service (`executions-run-projector`). */
  durable: string;
  /** Where a new durable consumer starts: `new` messages only (default) or `all` retained ones. */
  from?: 'new' | 'all';
  /** Redelivery delay after a handler error. */
  retryDelayMs?: number;
  maxDeliver?: number;
}

export interface Consumer {
  stop(): Promise<void>;
}

type QueryReply<S extends QuerySubject> = { ok: true; data: ReplyOf<S> } | { ok: false; error: QueryErrorBody };

/** An error answered by a query handler, carried back to the requester with its code. */
export class QueryError extends Error {
  constructor(
    readonly code: QueryErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'QueryError';
  }
}

/**
 * The data of a decoded reply envelope, or its error as a QueryError. An answer that is not an
 * envelope, or whose error code is not a query error code, is BAD_REPLY naming what came back, so
 * a requester never branches on a code it does not know.
 */
export function replyData(subject: string, reply: unknown): unknown {
  if (!reply || typeof reply !== 'object' || typeof (reply as { ok?: unknown }).ok !== 'boolean') {
    throw new QueryError('BAD_REPLY', `${subject} answered with something that is not a reply envelope ({ ok, data } or { ok, error })`);
  }
  const envelope = reply as { ok: boolean; data?: unknown; error?: { code?: unknown; message?: unknown } };
  if (envelope.ok) return envelope.data;
  const message = typeof envelope.error?.message === 'string' ? envelope.error.message : '(no message)';
  const code = queryErrorCodeSchema.safeParse(envelope.error?.code);
  if (!code.success) {
    throw new QueryError('BAD_REPLY', `${subject} answered with error code ${JSON.stringify(envelope.error?.code) ?? 'undefined'}, which is not one of ${QUERY_ERROR_CODES.join(', ')} (its message: ${message})`);
  }
  throw new QueryError(code.data, message);
}

/**
 * Typed access to NATS: every payload is checked against its subject's schema on the way out and
 * on the way in, and a subject's kind decides the transport (JetStream or core NATS).
 */
export class MessageBus {
  readonly names: BusNames;
  private js: JetStreamClient;
  private jsmPromise?: Promise<JetStreamManager>;

  constructor(
    readonly nc: NatsConnection,
    prefix: string,
    private readonly service: string,
    private readonly log: BusLogger,
  ) {
    this.names = busNames(prefix);
    this.js = nc.jetstream();
  }

  private jsm(): Promise<JetStreamManager> {
    this.jsmPromise ??= this.nc.jetstreamManager();
    return this.jsmPromise;
  }

  /** Creates the events and commands streams, or brings their config up to date. Idempotent. */
  async ensureStreams(): Promise<void> {
    const jsm = await this.jsm();
    const want: Partial<StreamConfig>[] = [
      {
        name: this.names.eventsStream,
        subjects: [this.names.subject('evt.>')],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        max_age: nanos(7 * 24 * 3600 * 1000),
        duplicate_window: nanos(2 * 60 * 1000),
      },
      {
        name: this.names.commandsStream,
        subjects: [this.names.subject('cmd.>')],
        retention: RetentionPolicy.Workqueue,
        storage: StorageType.File,
        duplicate_window: nanos(2 * 60 * 1000),
      },
    ];
    for (const cfg of want) {
      try {
        await jsm.streams.add(cfg);
      } catch (err) {
        if (!/already in use|stream name already/i.test(String((err as Error).message))) throw err;
        try {
          await jsm.streams.update(cfg.name!, cfg);
        } catch (updateErr) {
          // One service may change a stream's config (deploy/nats/nats-config.cjs, `streams: 'manage'`);
          // the others use the stream as it is until that one has booted.
          if ((updateErr as NatsError).code !== ErrorCode.PermissionsViolation) throw updateErr;
          this.log.warn(`stream ${cfg.name} has an older config; the service that manages the streams brings it up to date`, {});
        }
      }
    }
  }

  /** Publishes an event or command to JetStream; `msgId` makes a repeat a no-op within the window. */
  async publish<S extends DurableSubject>(subject: S, payload: PayloadOf<S>, opts: { msgId?: string } = {}): Promise<PubAck> {
    const valid = parseMessage(subject, definitionOf(subject).payload, payload);
    return this.js.publish(this.names.subject(subject), codec.encode(valid), opts.msgId ? { msgID: opts.msgId } : undefined);
  }

  /** Publishes on core NATS, for live data whose record is elsewhere. */
  publishLive<S extends LiveSubject>(subject: S, payload: PayloadOf<S>, suffix?: string): void {
    const valid = parseMessage(subject, definitionOf(subject).payload, payload);
    this.nc.publish(this.names.subject(suffix ? `${subject}.${suffix}` : subject), codec.encode(valid));
  }

  /** Asks the owner of a query subject and returns its validated reply. */
  async request<S extends QuerySubject>(subject: S, payload: PayloadOf<S>, opts: { timeoutMs?: number } = {}): Promise<ReplyOf<S>> {
    const def = definitionOf(subject);
    const valid = parseMessage(subject, def.payload, payload);
    const msg = await this.nc.request(this.names.subject(subject), codec.encode(valid), { timeout: opts.timeoutMs ?? 5000 });
    return parseMessage(`${subject} (reply)`, def.reply, replyData(subject, safeDecode(msg.data))) as ReplyOf<S>;
  }

  /** Answers a query subject, sharing the work with the other replicas of this service. */
  answer<S extends QuerySubject>(subject: S, handler: (payload: PayloadOf<S>) => Promise<ReplyOf<S>> | ReplyOf<S>): Subscription {
    const def = definitionOf(subject);
    return this.nc.subscribe(this.names.subject(subject), {
      queue: this.service,
      callback: (err, msg) => {
        if (err) return this.log.error(`subscription to ${subject} failed`, { error: err.message });
        void (async () => {
          let reply: QueryReply<S>;
          try {
            const payload = parseMessage(subject, def.payload, safeDecode(msg.data));
            const data = parseMessage(`${subject} (reply)`, def.reply, await handler(payload)) as ReplyOf<S>;
            reply = { ok: true, data };
          } catch (e) {
            // Only the request failing its schema is the requester's fault; a reply failing its own is this handler's.
            const badRequest = (e as Error).name === 'MessageValidationError' && (e as MessageValidationError).subject === subject;
            const code: QueryErrorCode = e instanceof QueryError ? e.code : badRequest ? 'BAD_REQUEST' : 'INTERNAL';
            if (code === 'INTERNAL') this.log.error(`query ${subject} failed`, { error: (e as Error).message });
            reply = { ok: false, error: { code, message: code === 'INTERNAL' ? 'internal error' : (e as Error).message } };
          }
          msg.respond(codec.encode(reply));
        })();
      },
    });
  }

  /** Subscribes on core NATS to a live subject (optionally one suffix, e.g. a build id). */
  subscribeLive<S extends LiveSubject>(subject: S, suffix: string | undefined, handler: (payload: PayloadOf<S>) => void): Subscription {
    const def = definitionOf(subject);
    const wire = this.names.subject(suffix ? `${subject}.${suffix}` : subject);
    return this.nc.subscribe(wire, {
      callback: (err, msg) => {
        if (err) return;
        try {
          handler(parseMessage(subject, def.payload, safeDecode(msg.data)));
        } catch (e) {
          this.log.warn(`dropped an invalid live message on ${wire}`, { error: (e as Error).message });
        }
      },
    });
  }

  /**
   * Consumes events or commands through a durable pull consumer. The handler's success acks the
   * message; its failure naks it for redelivery; a payload that fails its schema is `term`inated
   * (never redelivered) and logged, so one bad message cannot wedge the consumer.
   */
  async consume<S extends EventSubject | CommandSubject>(
    subjectList: S[],
    opts: ConsumeOptions,
    handler: (payload: PayloadOf<S>, delivery: Delivery) => Promise<void>,
  ): Promise<Consumer> {
    const jsm = await this.jsm();
    const kinds = new Set(subjectList.map((s) => definitionOf(s).kind));
    if (kinds.size !== 1) throw new Error(`consume(${subjectList.join(', ')}): mix events and commands in separate consumers`);
    const stream = kinds.has('event') ? this.names.eventsStream : this.names.commandsStream;
    const filters = subjectList.map((s) => this.names.subject(s));
    const config: Partial<ConsumerConfig> = {
      durable_name: opts.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: opts.from === 'all' ? DeliverPolicy.All : DeliverPolicy.New,
      ack_wait: nanos(30_000),
      max_deliver: opts.maxDeliver ?? -1,
      ...(filters.length === 1 ? { filter_subject: filters[0] } : { filter_subjects: filters }),
    };
    try {
      await jsm.consumers.info(stream, opts.durable);
      await jsm.consumers.update(stream, opts.durable, { filter_subjects: config.filter_subjects, filter_subject: config.filter_subject, max_deliver: config.max_deliver });
    } catch (err) {
      if (!/consumer not found/i.test(String((err as Error).message))) throw err;
      await jsm.consumers.add(stream, config);
    }
    const consumer = await this.js.consumers.get(stream, opts.durable);
    const messages: ConsumerMessages = await consumer.consume({ max_messages: 64 });
    const done = (async () => {
      for await (const m of messages) await this.handle(m, handler, opts);
    })();
    return {
      stop: async () => {
        await messages.close();
        await done;
      },
    };
  }

  private async handle<S extends Subject>(
    m: JsMsg,
    handler: (payload: PayloadOf<S>, delivery: Delivery) => Promise<void>,
    opts: ConsumeOptions,
  ): Promise<void> {
    const name = m.subject.slice(this.names.prefix.length + 1);
    const delivery: Delivery = {
      seq: m.seq,
      deliveryCount: m.info.redeliveryCount,
      msgId: m.headers?.get('Nats-Msg-Id') || undefined,
      subject: name,
    };
    let payload: PayloadOf<S>;
    try {
      if (!isSubject(name)) throw new Error(`unknown subject ${m.subject}`);
      const def = definitionOf(name);
      payload = parseMessage(name, def.payload, safeDecode(m.data)) as PayloadOf<S>;
    } catch (e) {
      this.log.warn(`terminated an invalid message on ${m.subject} (stream seq ${m.seq})`, {
        consumer: opts.durable,
        error: (e as Error).message,
      });
      m.term();
      return;
    }
    try {
      await handler(payload, delivery);
      m.ack();
    } catch (e) {
      this.log.error(`handler for ${m.subject} failed; it will be redelivered`, {
        consumer: opts.durable,
        seq: m.seq,
        error: (e as Error).message,
      });
      m.nak(opts.retryDelayMs ?? 1000);
    }
  }
}

function safeDecode(data: Uint8Array): unknown {
  try {
    return codec.decode(data);
  } catch {
    return undefined;
  }
}
