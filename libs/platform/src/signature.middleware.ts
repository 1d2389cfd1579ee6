import { verifyIdentity } from '@pipewright/auth';
import type { Identity } from '@pipewright/contracts';
import type { NextFunction, Request, Response } from 'express';

export type SignedRequest = Request & { identity?: Identity };

/**
 * Refuses every GraphQL request that does not carry the gateway's valid signature, so nothing
 * reaches a subgraph around the gateway. Health and metrics stay open for probes and scrapers.
 */
export function signatureMiddleware(secret: string) {
  return (req: SignedRequest, res: Response, next: NextFunction) => {
    try {
      req.identity = verifyIdentity(req.headers, secret);
      next();
    } catch (err) {
      res.status(401).json({ errors: [{ message: (err as Error).message, extensions: { code: 'UNAUTHENTICATED' } }] });
    }
  };
}
