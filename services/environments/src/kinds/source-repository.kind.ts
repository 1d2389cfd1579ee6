import { Directive, Field, InputType, ObjectType, registerEnumType } from '@nestjs/graphql';
import type { ResolvedSourceRepository } from '@pipewright/contracts';
import { z } from 'zod';
import { lsRemote } from '../probes/git-probe';
import { ProbeFailure } from '../probes/http-probe';
import { baseModel, type KindDefinition } from './kind';
import { branchField, nameField, secretField, urlField } from './fields';
import { EnvironmentResourceBase, InProjectInput } from './resource-base.model';

export enum SourceProvider {
  GITHUB = 'GITHUB',
  GITLAB = 'GITLAB',
}
registerEnumType(SourceProvider, { name: 'SourceProvider' });

@ObjectType({ implements: () => [EnvironmentResourceBase], description: 'A git repository on GitHub or GitLab that Source stages read.' })
@Directive('@key(fields: "id")')
export class SourceRepository extends EnvironmentResourceBase {
  @Field(() => SourceProvider) provider!: SourceProvider;
  @Field({ description: 'HTTPS clone URL.' }) url!: string;
  @Field() defaultBranch!: string;
}

@InputType()
export class CreateSourceRepositoryInput extends InProjectInput {
  @Field() name!: string;
  @Field(() => SourceProvider) provider!: SourceProvider;
  @Field({ description: 'HTTPS clone URL, e.g. https://github.com/acme/app.git' }) url!: string;
  @Field({ nullable: true, description: 'Default: main' }) defaultBranch?: string;
  @Field(() => String, { nullable: true, description: 'Access token with read access (secret).' }) token?: string | null;
}

@InputType({ description: 'Omitted fields keep their value; `token: null` clears the token.' })
export class UpdateSourceRepositoryInput {
  @Field({ nullable: true }) name?: string;
  @Field(() => SourceProvider, { nullable: true }) provider?: SourceProvider;
  @Field({ nullable: true }) url?: string;
  @Field({ nullable: true }) defaultBranch?: string;
  @Field(() => String, { nullable: true }) token?: string | null;
}

const schema = z.object({
  name: nameField,
  provider: z.enum(['GITHUB', 'GITLAB'], { errorMap: () => ({ message: 'must be GITHUB or GITLAB' }) }),
  url: urlField(['https', 'http'], 'https://github.com/acme/app.git'),
  defaultBranch: branchField.nullish().transform((v) => v || 'main'),
  token: secretField,
});

export const sourceRepositoryKind: KindDefinition<ResolvedSourceRepository> = {
  kind: 'source-repository',
  typeName: 'SourceRepository',
  singular: 'sourceRepository',
  plural: 'sourceRepositories',
  label: 'source repository',
  secretFields: ['token'],
  schema,
  model: SourceRepository,
  createInput: CreateSourceRepositoryInput,
  updateInput: UpdateSourceRepositoryInput,
  resolveSubject: 'rpc.environments.source-repository.resolve',
  toModel: (row) => ({ ...baseModel(row), provider: row.config.provider, url: row.config.url, defaultBranch: row.config.defaultBranch }),
  resolved: (row, secrets) => ({
    id: row.id,
    name: row.name,
    provider: row.config.provider as 'GITHUB' | 'GITLAB',
    url: row.config.url as string,
    defaultBranch: row.config.defaultBranch as string,
    token: secrets.token ?? null,
  }),
  async probe(repo, { timeoutMs }) {
    // GitHub takes any user name with a token; GitLab wants "oauth2".
    const user = repo.provider === 'GITLAB' ? 'oauth2' : 'x-access-token';
    const found = await lsRemote(repo.url, repo.token ? { user, token: repo.token } : null, timeoutMs);
    const details = { head: found.head, branches: found.branches.slice(0, 20), branchCount: found.branches.length };
    if (!found.branches.includes(repo.defaultBranch)) {
      throw new ProbeFailure(
        `the repository answers, but its default branch "${repo.defaultBranch}" does not exist; it has ${found.branches.slice(0, 20).join(', ') || 'no branches'}`,
        'PROTOCOL',
        details,
      );
    }
    return { message: `reached ${new URL(repo.url).host}: ${found.branches.length} branches, "${repo.defaultBranch}" found`, details };
  },
};
