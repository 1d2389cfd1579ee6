import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** A real HTTP server for webhook stages, with behaviours chosen by path, counting every call. */
export class HooksServer {
  readonly calls = new Map<string, number>();
  readonly keys = new Map<string, Set<string>>();
  private server!: Server;
  private barriers = new Map<string, ServerResponse[]>();
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

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const path = (req.url ?? '/').split('?')[0];
    this.calls.set(path, this.count(path) + 1);
    const key = String(req.headers['idempotency-key'] ?? '');
    if (!this.keys.has(path)) this.keys.set(path, new Set());
    this.keys.get(path)!.add(key);
    let body = '';
    for await (const chunk of req) body += chunk;
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
