import { z } from 'zod';
import { defineStage, optionalText, resourceId } from './define-stage';

const config = z
  .object({
    repositoryId: resourceId('source repository').describe('The source repository (environment settings) to read.'),
    branch: optionalText(255).describe("Branch to resolve to a commit; default: the repository's default branch."),
  })
  .strict();

const sourceStage = <T extends 'SOURCE_GITHUB' | 'SOURCE_GITLAB'>(type: T, host: string) =>
  defineStage({
    type,
    group: 'SOURCE',
    label: `Source (${host})`,
    description: `Resolves a ${host} repository's branch to a commit, which the Build and Bake stages after it use (no end condition needed).`,
    config,
    references: (c) => [{ path: 'repositoryId', kind: 'source-repository', id: c.repositoryId }],
  });

export const sourceGithubStage = sourceStage('SOURCE_GITHUB', 'GitHub');
export const sourceGitlabStage = sourceStage('SOURCE_GITLAB', 'GitLab');
