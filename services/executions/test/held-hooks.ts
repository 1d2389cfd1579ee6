import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/**
 * A webhook receiver that counts every call per Idempotency-Key. `/hold/...` holds the first call
 * of each key open until release() (a call in flight when the engine dies); repeats and `/ok/...`
 * are answered at once; `/after/<ms>/...` answers after that many milliseconds.
 */
export class HeldHooks {
  /** Calls per `path key` (path and Idempotency-Key). */
  readonly calls = new Map<string, number>();
  private held: ServerResponse[] = [];
  private heldWaiters: { n: number; resolve: () => void }[] = [];
  private heldTotal = 0;
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  async stop(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  /** Calls of `path` with this key so far. */
  count(path: string, key: string): number {
    return this.calls.get(`${path} ${key}`) ?? 0;
  }

  /** Resolves once `n` calls in all have been held (since start). */
  heldCalls(n: number): Promise<void> {
    if (this.heldTotal >= n) return Promise.resolve();
    return new Promise((resolve) => this.heldWaiters.push({ n, resolve }));
  }

  /** Answers every held call (whoever made it may be gone by now). */
  release(): void {
    for (const res of this.held.splice(0)) {
      if (!res.writableEnded && !res.destroyed) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"released":true}');
      }
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const path = (req.url ?? '/').split('?')[0];
    const key = String(req.headers['idempotency-key'] ?? '');
    const id = `${path} ${key}`;
    const n = (this.calls.get(id) ?? 0) + 1;
    this.calls.set(id, n);
    for await (const _chunk of req); // the body is not needed
    const [, kind, arg] = path.split('/');
    const answer = () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ path, calls: n }));
    };
    if (kind === 'hold' && n === 1) {
      this.held.push(res);
      this.heldTotal++;
      for (const w of this.heldWaiters.filter((w) => this.heldTotal >= w.n)) {
        this.heldWaiters.splice(this.heldWaiters.indexOf(w), 1);
        w.resolve();
      }
      return;
    }
    if (kind === 'after') return void setTimeout(answer, Number(arg));
    answer();
  }
}
