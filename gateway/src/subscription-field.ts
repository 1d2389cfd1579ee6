import {
  Kind,
  valueFromASTUntyped,
  type DocumentNode,
  type ExecutionArgs,
  type FieldNode,
  type FragmentDefinitionNode,
  type InlineFragmentNode,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';

/** The single top-level field of a subscription operation, or null. */
export function subscriptionField(args: ExecutionArgs): FieldNode | null {
  const op = args.document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION && (!args.operationName || d.name?.value === args.operationName));
  const field = op?.selectionSet.selections[0];
  return op && op.selectionSet.selections.length === 1 && field?.kind === Kind.FIELD ? field : null;
}

/** The field's arguments with variables filled in. */
export function fieldArguments(field: FieldNode, args: ExecutionArgs): Record<string, unknown> {
  return Object.fromEntries((field.arguments ?? []).map((a) => [a.name.value, valueFromASTUntyped(a.value, args.variableValues as Record<string, unknown>)]));
}

/**
 * The selection with every fragment spread replaced by an inline fragment of the document's
 * definition, so it can be re-sent alone (the gateway queries the supergraph with just the
 * subscription field's selection). An unknown fragment is left for validation to name.
 */
export function inlineFragments(selection: SelectionSetNode, document: DocumentNode, seen: ReadonlySet<string> = new Set()): SelectionSetNode {
  const fragments = new Map(document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]));
  const walk = (set: SelectionSetNode, path: ReadonlySet<string>): SelectionSetNode => ({
    ...set,
    selections: set.selections.map((s): SelectionNode => {
      if (s.kind === Kind.FRAGMENT_SPREAD) {
        const def = fragments.get(s.name.value);
        // A cycle is invalid GraphQL; leave it for validation rather than recurse for ever.
        if (!def || path.has(def.name.value)) return s;
        const inline: InlineFragmentNode = { kind: Kind.INLINE_FRAGMENT, typeCondition: def.typeCondition, directives: s.directives, selectionSet: walk(def.selectionSet, new Set([...path, def.name.value])) };
        return inline;
      }
      return s.selectionSet ? { ...s, selectionSet: walk(s.selectionSet, path) } : s;
    }),
  });
  return walk(selection, seen);
}
