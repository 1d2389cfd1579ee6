import { Directive, Field, InputType, ObjectType, registerEnumType } from '@nestjs/graphql';
import type { ResolvedBuildTool } from '@pipewright/contracts';
import { z } from 'zod';
import { basicAuth, describeStatus, fetchWithin } from '../probes/http-probe';
import { baseModel, type KindDefinition } from './kind';
import { nameField, optionalText, secretField, urlField } from './fields';
import { EnvironmentResourceBase, InProjectInput } from './resource-base.model';

export enum BuildToolKind {
  JENKINS = 'JENKINS',
}
registerEnumType(BuildToolKind, { name: 'BuildToolKind' });

@ObjectType({ implements: () => [EnvironmentResourceBase], description: 'An external build server (Jenkins) that Build stages trigger.' })
@Directive('@key(fields: "id")')
export class BuildTool extends EnvironmentResourceBase {
  @Field(() => BuildToolKind) kind!: BuildToolKind;
  @Field() url!: string;
  @Field(() => String, { nullable: true }) username!: string | null;
}

@InputType()
export class CreateBuildToolInput extends InProjectInput {
  @Field() name!: string;
  @Field(() => BuildToolKind, { nullable: true, description: 'Default: JENKINS' }) kind?: BuildToolKind;
  @Field({ description: 'e.g. https://jenkins.example.com/' }) url!: string;
  @Field(() => String, { nullable: true }) username?: string | null;
  @Field(() => String, { nullable: true, description: 'Jenkins API token (secret).' }) apiToken?: string | null;
}

@InputType({ description: 'Omitted fields keep their value; `apiToken: null` clears the token.' })
export class UpdateBuildToolInput {
  @Field({ nullable: true }) name?: string;
  @Field(() => BuildToolKind, { nullable: true }) kind?: BuildToolKind;
  @Field({ nullable: true }) url?: string;
  @Field(() => String, { nullable: true }) username?: string | null;
  @Field(() => String, { nullable: true }) apiToken?: string | null;
}

const schema = z.object({
  name: nameField,
  kind: z.enum(['JENKINS'], { errorMap: () => ({ message: 'must be JENKINS' }) }).nullish().transform((v) => v ?? 'JENKINS'),
  url: urlField(['https', 'http'], 'https://jenkins.example.com/'),
  username: optionalText(256),
  apiToken: secretField,
});

export const buildToolKind: KindDefinition<ResolvedBuildTool> = {
  kind: 'build-tool',
  typeName: 'BuildTool',
  singular: 'buildTool',
  plural: 'buildTools',
  label: 'build tool',
  secretFields: ['apiToken'],
  schema,
  model: BuildTool,
  createInput: CreateBuildToolInput,
  updateInput: UpdateBuildToolInput,
  resolveSubject: 'rpc.environments.build-tool.resolve',
  toModel: (row) => ({ ...baseModel(row), kind: row.config.kind, url: row.config.url, username: row.config.username ?? null }),
  resolved: (row, secrets) => ({
    id: row.id,
    name: row.name,
    kind: 'JENKINS',
    url: row.config.url as string,
    username: (row.config.username as string | null) ?? null,
    apiToken: secrets.apiToken ?? null,
  }),
  async probe(tool, { timeoutMs, outbound }) {
    const base = tool.url.endsWith('/') ? tool.url : `${tool.url}/`;
    const headers: Record<string, string> = tool.username && tool.apiToken ? { authorization: basicAuth(tool.username, tool.apiToken) } : {};
    // The crumb proves the credentials can act; Jenkins without CSRF protection answers 404 here.
    const crumbUrl = new URL('crumbIssuer/api/json', base);
    const crumb = await fetchWithin(crumbUrl, { headers, timeoutMs, outbound });
    if (crumb.status !== 404) {
      const failure = describeStatus(crumb.status, crumbUrl, 'user name and API token');
      if (failure) throw failure;
      const { crumbRequestField, crumb: value } = JSON.parse(crumb.body) as { crumbRequestField: string; crumb: string };
      headers[crumbRequestField] = value;
    }
    const apiUrl = new URL('api/json', base);
    const api = await fetchWithin(apiUrl, { headers, timeoutMs, outbound });
    const failure = describeStatus(api.status, apiUrl, 'user name and API token');
    if (failure) throw failure;
    const body = JSON.parse(api.body) as { jobs?: { name: string }[] };
    const version = api.headers['x-jenkins'] ?? null;
    const jobs = (body.jobs ?? []).map((j) => j.name);
    return {
      message: `reached Jenkins${version ? ` ${version}` : ''} at ${apiUrl.host}: ${jobs.length} jobs`,
      details: { version, jobs: jobs.slice(0, 50), jobCount: jobs.length, crumb: crumb.status !== 404 },
    };
  },
};
