import type { OutboundPolicy } from '@pipewright/platform';
import { Directive, Field, InputType, ObjectType } from '@nestjs/graphql';
import type { ResolvedImageRegistry } from '@pipewright/contracts';
import { z } from 'zod';
import { basicAuth, describeStatus, fetchWithin, ProbeFailure } from '../probes/http-probe';
import { baseModel, type KindDefinition } from './kind';
import { nameField, optionalText, secretField } from './fields';
import { EnvironmentResourceBase, InProjectInput } from './resource-base.model';

@ObjectType({ implements: () => [EnvironmentResourceBase], description: 'An OCI image registry builds push to and deployments pull from.' })
@Directive('@key(fields: "id")')
export class ImageRegistry extends EnvironmentResourceBase {
  @Field({ description: 'host[:port], or a URL with scheme' }) url!: string;
  @Field(() => String, { nullable: true, description: 'Repository path prefix, e.g. team/apps' }) namespace!: string | null;
  @Field({ description: 'Plain HTTP, or HTTPS with an untrusted certificate' }) insecure!: boolean;
  @Field(() => String, { nullable: true }) username!: string | null;
}

@InputType()
export class CreateImageRegistryInput extends InProjectInput {
  @Field() name!: string;
  @Field({ description: 'e.g. registry.example.com, 127.0.0.1:5000 or https://registry.example.com' }) url!: string;
  @Field(() => String, { nullable: true }) namespace?: string | null;
  @Field({ nullable: true, description: 'Default: false' }) insecure?: boolean;
  @Field(() => String, { nullable: true }) username?: string | null;
  @Field(() => String, { nullable: true, description: 'Password or access token (secret).' }) password?: string | null;
}

@InputType({ description: 'Omitted fields keep their value; `password: null` clears the password.' })
export class UpdateImageRegistryInput {
  @Field({ nullable: true }) name?: string;
  @Field({ nullable: true }) url?: string;
  @Field(() => String, { nullable: true }) namespace?: string | null;
  @Field({ nullable: true }) insecure?: boolean;
  @Field(() => String, { nullable: true }) username?: string | null;
  @Field(() => String, { nullable: true }) password?: string | null;
}

/** The registry's base URL: the given scheme, else http when insecure, else https. */
/** The host[:port] a registry URL names, lower-case (null when it is not a URL). */
export function registryHost(url: string): string | null {
  try {
    return registryBase(url, true).host.toLowerCase();
  } catch {
    return null;
  }
}

export function registryBase(url: string, insecure: boolean): URL {
  return new URL(/^[a-z]+:\/\//i.test(url) ? url : `${insecure ? 'http' : 'https'}://${url}`);
}

const registryUrl = z
  .string({ required_error: 'is required (e.g. registry.example.com or 127.0.0.1:5000)', invalid_type_error: 'must be a string' })
  .transform((v) => v.trim().replace(/\/+$/, ''))
  .superRefine((v, ctx) => {
    const hint = `must be host[:port] or an http(s):// URL with no path (e.g. registry.example.com:5000; got "${v.slice(0, 200)}")`;
    try {
      const u = registryBase(v, false);
      if (!['http:', 'https:'].includes(u.protocol) || !u.hostname || (u.pathname && u.pathname !== '/') || u.username) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: hint });
      }
    } catch {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: hint });
    }
  });

const schema = z.object({
  name: nameField,
  url: registryUrl,
  namespace: optionalText(255).refine((v) => v === null || /^[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/.test(v), {
    message: 'must be a repository path: lower-case letters, digits, ".", "_", "-" and "/" (e.g. team/apps)',
  }),
  insecure: z.boolean({ invalid_type_error: 'must be true or false' }).nullish().transform((v) => v ?? false),
  username: optionalText(256),
  password: secretField,
});

/**
 * Answers a registry's Bearer challenge (Docker Hub, GHCR, Harbor) with the credentials. The token
 * URL is the registry's choice (its realm), so it goes through the outbound guard.
 */
async function bearerToken(challenge: string, auth: string | undefined, timeoutMs: number, insecure: boolean, outbound: OutboundPolicy): Promise<string | null> {
  const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
  if (!params.realm) return null;
  const url = new URL(params.realm);
  if (params.service) url.searchParams.set('service', params.service);
  const res = await fetchWithin(url, { headers: auth ? { authorization: auth } : {}, timeoutMs, insecure, outbound });
  const failure = describeStatus(res.status, url, 'user name and password');
  if (failure) throw failure;
  const body = JSON.parse(res.body) as { token?: string; access_token?: string };
  return body.token ?? body.access_token ?? null;
}

export const imageRegistryKind: KindDefinition<ResolvedImageRegistry> = {
  kind: 'image-registry',
  typeName: 'ImageRegistry',
  singular: 'imageRegistry',
  plural: 'imageRegistries',
  label: 'image registry',
  secretFields: ['password'],
  schema,
  model: ImageRegistry,
  createInput: CreateImageRegistryInput,
  updateInput: UpdateImageRegistryInput,
  resolveSubject: 'rpc.environments.image-registry.resolve',
  toModel: (row) => ({ ...baseModel(row), url: row.config.url, namespace: row.config.namespace ?? null, insecure: row.config.insecure, username: row.config.username ?? null }),
  resolved: (row, secrets) => ({
    id: row.id,
    name: row.name,
    url: row.config.url as string,
    namespace: (row.config.namespace as string | null) ?? null,
    insecure: row.config.insecure as boolean,
    username: (row.config.username as string | null) ?? null,
    password: secrets.password ?? null,
  }),
  async probe(reg, { timeoutMs, outbound }) {
    const url = new URL('/v2/', registryBase(reg.url, reg.insecure));
    const auth = reg.username && reg.password ? basicAuth(reg.username, reg.password) : undefined;
    let res = await fetchWithin(url, { headers: auth ? { authorization: auth } : {}, timeoutMs, insecure: reg.insecure });
    const challenge = String(res.headers['www-authenticate'] ?? '');
    if (res.status === 401 && /^Bearer /i.test(challenge)) {
      const token = await bearerToken(challenge, auth, timeoutMs, reg.insecure, outbound);
      if (token) res = await fetchWithin(url, { headers: { authorization: `Bearer ${token}` }, timeoutMs, insecure: reg.insecure });
    }
    const failure = describeStatus(res.status, url, reg.username ? 'user name and password' : 'credentials (none are stored)');
    if (failure) throw failure;
    const apiVersion = res.headers['docker-distribution-api-version'] ?? null;
    if (!apiVersion && !/json/.test(String(res.headers['content-type'] ?? ''))) {
      throw new ProbeFailure(`${url.host} answered /v2/ but is not an image registry (no Docker-Distribution-Api-Version): check the URL`, 'PROTOCOL');
    }
    return { message: `reached the registry at ${url.host}${auth ? ' with the stored credentials' : ''}`, details: { apiVersion, url: url.origin } };
  },
};
