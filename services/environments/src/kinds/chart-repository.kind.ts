import { Directive, Field, InputType, ObjectType } from '@nestjs/graphql';
import type { ResolvedChartRepository } from '@pipewright/contracts';
import { parse } from 'yaml';
import { z } from 'zod';
import { basicAuth, describeStatus, fetchWithin, ProbeFailure } from '../probes/http-probe';
import { baseModel, type KindDefinition } from './kind';
import { nameField, optionalText, secretField, urlField } from './fields';
import { EnvironmentResourceBase, InProjectInput } from './resource-base.model';

@ObjectType({ implements: () => [EnvironmentResourceBase], description: 'A Helm chart repository that Bake stages render from: HTTP(S) with an index.yaml. An oci:// registry can be stored and tested, but Bake does not fetch from one yet.' })
@Directive('@key(fields: "id")')
export class ChartRepository extends EnvironmentResourceBase {
  @Field() url!: string;
  @Field(() => String, { nullable: true }) username!: string | null;
}

@InputType()
export class CreateChartRepositoryInput extends InProjectInput {
  @Field() name!: string;
  @Field({ description: 'e.g. https://charts.example.com or oci://registry.example.com/charts' }) url!: string;
  @Field(() => String, { nullable: true }) username?: string | null;
  @Field(() => String, { nullable: true, description: 'Password (secret).' }) password?: string | null;
}

@InputType({ description: 'Omitted fields keep their value; `password: null` clears the password.' })
export class UpdateChartRepositoryInput {
  @Field({ nullable: true }) name?: string;
  @Field({ nullable: true }) url?: string;
  @Field(() => String, { nullable: true }) username?: string | null;
  @Field(() => String, { nullable: true }) password?: string | null;
}

const schema = z.object({
  name: nameField,
  url: urlField(['https', 'http', 'oci'], 'https://charts.example.com').transform((v) => v.replace(/\/+$/, '')),
  username: optionalText(256),
  password: secretField,
});

export const chartRepositoryKind: KindDefinition<ResolvedChartRepository> = {
  kind: 'chart-repository',
  typeName: 'ChartRepository',
  singular: 'chartRepository',
  plural: 'chartRepositories',
  label: 'chart repository',
  secretFields: ['password'],
  schema,
  model: ChartRepository,
  createInput: CreateChartRepositoryInput,
  updateInput: UpdateChartRepositoryInput,
  resolveSubject: 'rpc.environments.chart-repository.resolve',
  toModel: (row) => ({ ...baseModel(row), url: row.config.url, username: row.config.username ?? null }),
  resolved: (row, secrets) => ({
    id: row.id,
    name: row.name,
    url: row.config.url as string,
    username: (row.config.username as string | null) ?? null,
    password: secrets.password ?? null,
  }),
  async probe(repo, { timeoutMs, outbound }) {
    const headers: Record<string, string> = repo.username && repo.password ? { authorization: basicAuth(repo.username, repo.password) } : {};
    if (repo.url.startsWith('oci://')) {
      const url = new URL(`https://${repo.url.slice('oci://'.length).split('/')[0]}/v2/`);
      const res = await fetchWithin(url, { headers, timeoutMs, outbound });
      const failure = describeStatus(res.status, url, 'user name and password');
      if (failure) throw failure;
      return { message: `reached the OCI registry at ${url.host}`, details: { oci: true } };
    }
    const url = new URL(`${repo.url}/index.yaml`);
    const res = await fetchWithin(url, { headers, timeoutMs, maxBytes: 32 * 1024 * 1024, outbound });
    const failure = describeStatus(res.status, url, 'user name and password');
    if (failure) throw failure;
    let index: { apiVersion?: string; entries?: Record<string, unknown[]> };
    try {
      index = parse(res.body) as typeof index;
    } catch {
      throw new ProbeFailure(`${url} is not a Helm repository index (it does not parse as YAML)`, 'PROTOCOL');
    }
    if (!index || typeof index !== 'object' || !index.entries) {
      throw new ProbeFailure(`${url} is not a Helm repository index (no "entries"): check the URL`, 'PROTOCOL');
    }
    const charts = Object.keys(index.entries);
    return { message: `reached the chart repository: ${charts.length} charts`, details: { apiVersion: index.apiVersion ?? null, charts: charts.slice(0, 50), chartCount: charts.length } };
  },
};
