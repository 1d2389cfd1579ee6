import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** One request as the hooks server saw it. */
export interface HookCall {
  path: string;
  /** Its Idempotency-Key header ('' without one). */
  key: string;
  /** Its X-Pipewright-Run header: the run whose stage called ('' without one). */
  runId: string;
  /** Date.now() when its headers arrived. */
  at: number;
  /** The caller's end of the connection (with the caller's address, it names the process that called). */
  remotePort: number;
}

/** A real HTTP server for webhook stages, with behaviours chosen by path, counting every call. */
export class HooksServer {
  readonly calls = new Map<string, number>();
  readonly keys = new Map<string, Set<string>>();
  /** Calls per Idempotency-Key, over every path: exactly-once checks count these. */
  readonly callsByKey = new Map<string, number>();
  /** Every call in arrival order. */
  readonly log: HookCall[] = [];
  /** Awaited before a call is answered, while its connection is open (e.g. to find which process made it). */
  onCall?: (call: HookCall) => Promise<void> | void;
  private server!: Server;
  private barriers = new Map<string, ServerResponse[]>();
  private holds = new Map<string, ServerResponse[]>();
  private released = new Set<string>();
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  count(path: string): number {
    return this.calls.get(path) ?? 0;
  }

  /** How many calls to a `/hold/...` path are waiting for `release`. */
  held(path: string): number {
    return this.holds.get(path)?.length ?? 0;
  }

  /** Answers every call waiting on a `/hold/...` path, and later ones at once; resolves once the answers are written. */
  async release(path: string): Promise<void> {
    this.released.add(path);
    const waiting = this.holds.get(path) ?? [];
    this.holds.delete(path);
    await Promise.all(
      waiting.map(
        (res) =>
          new Promise<void>((resolve) => {
            res.writeHead(200, { 'content-type': 'application/json' });
            // A caller that gave up closes the connection: then there is no answer to wait for.
            res.once('close', () => resolve());
            res.end('{"released":true}', () => resolve());
          }),
      ),
    );
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const path = (req.url ?? '/').split('?')[0];
    this.calls.set(path, this.count(path) + 1);
    const key = String(req.headers['idempotency-key'] ?? '');
    if (!this.keys.has(path)) this.keys.set(path, new Set());
    this.keys.get(path)!.add(key);
    this.callsByKey.set(key, (this.callsByKey.get(key) ?? 0) + 1);
    const call: HookCall = { path, key, runId: String(req.headers['x-pipewright-run'] ?? ''), at: Date.now(), remotePort: req.socket.remotePort ?? 0 };
    this.log.push(call);
    let body = '';
    for await (const chunk of req) body += chunk;
    if (this.onCall) await this.onCall(call);
    const [, kind, arg] = path.split('/');
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    switch (kind) {
      case 'ok':
        return json(200, { hello: 'world', method: req.method, received: body ? JSON.parse(body) : null });
      case 'status':
        return json(Number(arg), { status: Number(arg) });
      case 'flaky': // 503 on the first call, 200 after
        return this.count(path) === 1 ? json(503, { try: 'again' }) : json(200, { ok: true, calls: this.count(path) });
      case 'big': // a JSON body of about `arg` bytes
        return json(200, { filler: 'x'.repeat(Number(arg)) });
      case 'slow': // never answers in time; the connection is closed when the server stops
        return;
      case 'delay': // answers 200 after `arg` ms
        await new Promise((r) => setTimeout(r, Number(arg)));
        return json(200, { delayedMs: Number(arg) });
      case 'hold': // answers only once the test calls release(path)
        if (this.released.has(path)) return json(200, { released: true });
        this.holds.set(path, [...(this.holds.get(path) ?? []), res]);
        return;
      case 'barrier': {
        // Answers only once `arg` requests are waiting: proves they were in flight together.
        const waiting = [...(this.barriers.get(path) ?? []), res];
        this.barriers.set(path, waiting);
        if (waiting.length >= Number(arg)) {
          for (const r of waiting) {
            r.writeHead(200, { 'content-type': 'application/json' });
            r.end('{"together":true}');
          }
        }
        return;
      }
      default:
        return json(404, { error: 'no such hook' });
    }
  }
}
