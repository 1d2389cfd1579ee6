import { NonceMemory, verifyRequest } from '@pipewright/auth';
import type { Identity } from '@pipewright/contracts';
import type { NextFunction, Request, Response } from 'express';

export type SignedRequest = Request & { identity?: Identity; rawBody?: Buffer };

/**
 * Refuses every GraphQL request that does not carry the gateway's valid signature over this very
 * request (method, path, body, this subgraph, a nonce not seen before), so nothing reaches a
 * subgraph around the gateway, and a captured request cannot be replayed or given another body.
 * Health and metrics stay open for probes and scrapers.
 */
export function signatureMiddleware(secret: string, service: string) {
  const nonces = new NonceMemory();
  return (req: SignedRequest, res: Response, next: NextFunction) => {
    try {
      req.identity = verifyRequest(req.headers, { method: req.method, path: req.originalUrl, body: req.rawBody, audience: service }, secret, nonces);
      next();
    } catch (err) {
      res.status(401).json({ errors: [{ message: (err as Error).message, extensions: { code: 'UNAUTHENTICATED' } }] });
    }
  };
}
