import { parse, print, type ExecutionArgs, type GraphQLSchema } from 'graphql';
import { inlineFragments, subscriptionField } from './subscription-field';

describe('a subscription field re-sent alone', () => {
  const selectionOf = (source: string) => {
    const document = parse(source);
    const field = subscriptionField({ document, schema: {} as GraphQLSchema } as ExecutionArgs)!;
    return print(inlineFragments(field.selectionSet!, document));
  };

  it('carries its fragments inline, nested ones included', () => {
    const printed = selectionOf(`
      subscription Live($id: ID!) { runUpdated(runId: $id) { ...RunParts stages { ...StageParts } } }
      fragment RunParts on Run { id status ...Timing }
      fragment Timing on Run { startedAt finishedAt }
      fragment StageParts on StageRun { refId status }
    `);
    expect(printed).not.toContain('...RunParts');
    expect(parse(`query Q { run(id: "x") ${printed} }`).definitions).toHaveLength(1);
    expect(printed.replace(/\s+/g, ' ')).toBe('{ ... on Run { id status ... on Run { startedAt finishedAt } } stages { ... on StageRun { refId status } } }');
  });

  it('leaves an unknown or cyclic fragment for validation to name', () => {
    expect(selectionOf('subscription { runUpdated(runId: "r") { ...Missing } }')).toContain('...Missing');
    expect(selectionOf('subscription { runUpdated(runId: "r") { ...A } } fragment A on Run { id ...A }')).toContain('...A');
  });
});
