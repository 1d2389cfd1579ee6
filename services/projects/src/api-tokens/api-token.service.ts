import { Injectable } from '@nestjs/common';
import { isUuid, type Identity, type ProjectRole } from '@pipewright/contracts';
import { writeOutbox } from '@pipewright/persistence';
import { connectionOf, cursorShapes, DomainError, pageArgs, type Connection } from '@pipewright/platform';
import { GraphQLError } from 'graphql';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { assertAccessTo, assertSignedInPerson, grantableRoles } from '../projects/project-access';
import { ProjectService } from '../projects/project.service';
import { normalizeRoles } from '../roles';
import { hashApiToken, looksLikeApiToken, newApiToken } from './api-token-secret';
import { ApiTokenEntity } from './api-token.entity';

const MAX_NAME = 200;
const MAX_DAYS = 3650;
const DAY_MS = 24 * 3600 * 1000;
/** lastUsedAt is written at most this often per token (the gateway verifies on every request). */
const LAST_USED_GRANULARITY_SECONDS = 5;

export type VerifyResult =
  | { valid: true; tokenId: string; name: string; projectId: string; slug: string; roles: ProjectRole[]; createdBy: string }
  | { valid: false; reason: string };

/** API tokens of projects: issued once, stored hashed, verified for the gateway, revoked at once. */
@Injectable()
export class ApiTokenService {
  constructor(
    private readonly ds: DataSource,
    private readonly projects: ProjectService,
  ) {}

  async create(input: { projectId: string; name: string; roles: ProjectRole[]; expiresInDays?: number | null }, by: Identity): Promise<{ token: string; apiToken: ApiTokenEntity }> {
    if (by.via === 'api-token') {
      throw new GraphQLError('an API token cannot create API tokens; sign in as a project ADMIN to create one', { extensions: { code: 'FORBIDDEN' } });
    }
    const project = await this.projects.getOrThrow(input.projectId);
    assertAccessTo(by, project, 'admin', 'create API tokens');
    const name = input.name.trim();
    const days = input.expiresInDays;
    const problems = [
      ...(!name ? [{ field: 'input.name', message: 'must not be empty' }] : name.length > MAX_NAME ? [{ field: 'input.name', message: `must be at most ${MAX_NAME} characters` }] : []),
      ...(!input.roles.length ? [{ field: 'input.roles', message: 'must name at least one role' }] : []),
      ...(days !== null && days !== undefined && (!Number.isInteger(days) || days < 1 || days > MAX_DAYS)
        ? [{ field: 'input.expiresInDays', message: `must be between 1 and ${MAX_DAYS}, or null for a token that never expires (got ${days})` }]
        : []),
    ];
    if (problems.length) throw DomainError.badInput(problems);
    const grantable = grantableRoles(by, project.id);
    const beyond = input.roles.filter((r) => !grantable.has(r));
    if (beyond.length) {
      throw new DomainError('FORBIDDEN', `input.roles: a token can only get roles you hold in project "${project.slug}"; you cannot give it ${beyond.join(', ')}`, { field: 'input.roles' });
    }
    const token = newApiToken();
    const now = new Date();
    const apiToken = Object.assign(new ApiTokenEntity(), {
      id: randomUUID(),
      projectId: project.id,
      name,
      roles: normalizeRoles(input.roles),
      tokenHash: hashApiToken(token),
      createdBy: by.sub,
      createdAt: now,
      expiresAt: days ? new Date(now.getTime() + days * DAY_MS) : null,
      lastUsedAt: null,
      revokedAt: null,
      revokedBy: null,
    });
    await this.ds.transaction(async (tx) => {
      await this.projects.lockOrThrow(tx, project.id);
      await tx.insert(ApiTokenEntity, apiToken);
      await writeOutbox(tx, 'evt.projects.api-token.changed.v1', { id: apiToken.id, projectId: project.id, change: 'created', by: by.sub, at: now.toISOString() });
    });
    return { token, apiToken };
  }

  /** Revokes a token at once; revoking a revoked token changes nothing. */
  async revoke(id: string, by: Identity): Promise<ApiTokenEntity> {
    const found = isUuid(id) ? await this.ds.getRepository(ApiTokenEntity).findOneBy({ id }) : null;
    if (!found) throw new DomainError('NOT_FOUND', `no API token with id "${id}"`, { id });
    const project = await this.projects.getOrThrow(found.projectId);
    assertAccessTo(by, project, 'admin', 'revoke its API tokens');
    assertSignedInPerson(by, 'revoke API tokens');
    return this.ds.transaction(async (tx) => {
      const token = await tx.getRepository(ApiTokenEntity).createQueryBuilder('t').where('t.id = :id', { id }).setLock('pessimistic_write').getOne();
      if (!token) throw new DomainError('NOT_FOUND', `no API token with id "${id}"`, { id });
      if (token.revokedAt) return token;
      token.revokedAt = new Date();
      token.revokedBy = by.sub;
      await tx.save(ApiTokenEntity, token);
      await writeOutbox(tx, 'evt.projects.api-token.changed.v1', { id: token.id, projectId: token.projectId, change: 'revoked', by: by.sub, at: token.revokedAt.toISOString() });
      return token;
    });
  }

  /** A project's tokens, newest first. */
  async list(projectId: string, args: { first?: number | null; after?: string | null; includeRevoked?: boolean | null }): Promise<Connection<ApiTokenEntity>> {
    const { first, after } = pageArgs(args.first, args.after, cursorShapes.createdAtId);
    const base = () => {
      const q = this.ds.getRepository(ApiTokenEntity).createQueryBuilder('t').where('t.project_id = :projectId', { projectId });
      if (!args.includeRevoked) q.andWhere('t.revoked_at IS NULL');
      return q;
    };
    const page = base().orderBy('t.created_at', 'DESC').addOrderBy('t.id', 'DESC').limit(first + 1);
    if (after) page.andWhere('(t.created_at, t.id) < (:at, :id)', { at: after[0], id: after[1] });
    const [rows, totalCount] = await Promise.all([page.getMany(), base().getCount()]);
    return connectionOf(rows, first, after, totalCount, (t) => [t.createdAt.toISOString(), t.id]);
  }

  /** Checks a presented token and records its use. */
  async verify(token: string): Promise<VerifyResult> {
    if (!looksLikeApiToken(token)) return { valid: false, reason: 'not an API token of this platform' };
    const [row]: { id: string; name: string; projectId: string; slug: string; roles: string[]; createdBy: string; expiresAt: Date | null; revokedAt: Date | null }[] = await this.ds.query(
      `SELECT t.id::text AS id, t.name, t.project_id::text AS "projectId", p.slug, t.roles, t.created_by AS "createdBy", t.expires_at AS "expiresAt", t.revoked_at AS "revokedAt"
       FROM api_tokens t JOIN projects p ON p.id = t.project_id WHERE t.token_hash = $1`,
      [hashApiToken(token)],
    );
    if (!row) return { valid: false, reason: 'unknown API token' };
    if (row.revokedAt) return { valid: false, reason: `revoked at ${row.revokedAt.toISOString()}` };
    if (row.expiresAt && row.expiresAt.getTime() <= Date.now()) return { valid: false, reason: `expired at ${row.expiresAt.toISOString()}` };
    await this.ds.query(
      `UPDATE api_tokens SET last_used_at = now() WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - make_interval(secs => $2))`,
      [row.id, LAST_USED_GRANULARITY_SECONDS],
    );
    return { valid: true, tokenId: row.id, name: row.name, projectId: row.projectId, slug: row.slug, roles: normalizeRoles(row.roles), createdBy: row.createdBy };
  }
}
