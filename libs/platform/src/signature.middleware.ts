import { NONCE_HEADER, NonceMemory, verifyRequest } from '@pipewright/auth';
import type { SharedNonces } from '@pipewright/persistence';
import type { Identity } from '@pipewright/contracts';
import type { NextFunction, Request, Response } from 'express';

export type SignedRequest = Request & { identity?: Identity; rawBody?: Buffer };

/**
 * Refuses every GraphQL request that does not carry the gateway's valid signature over this very
 * request (method, path, body, this subgraph, a nonce not seen before), so nothing reaches a
 * subgraph around the gateway, and a captured request cannot be replayed or given another body.
 * Health and metrics stay open for probes and scrapers. With `shared`, a nonce is also claimed in
 * the service's database, so no replica (nor this one after a restart) accepts it a second time.
 */
export function signatureMiddleware(secret: string, service: string, shared?: SharedNonces) {
  const nonces = new NonceMemory();
  const refuse = (res: Response, status: number, message: string) => void res.status(status).json({ errors: [{ message, extensions: { code: status === 401 ? 'UNAUTHENTICATED' : 'SERVICE_UNAVAILABLE' } }] });
  return (req: SignedRequest, res: Response, next: NextFunction) => {
    try {
      req.identity = verifyRequest(req.headers, { method: req.method, path: req.originalUrl, body: req.rawBody, audience: service }, secret, nonces);
    } catch (err) {
      return refuse(res, 401, (err as Error).message);
    }
    if (!shared) return next();
    shared.claim(String(req.headers[NONCE_HEADER])).then(
      (first) => (first ? next() : refuse(res, 401, 'replayed gateway signature: its nonce was used already')),
      (err: Error) => refuse(res, 503, `cannot check the gateway signature's nonce: the database did not answer (${err.message})`),
    );
  };
}
