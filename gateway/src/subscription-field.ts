import { Kind, valueFromASTUntyped, type ExecutionArgs, type FieldNode, type OperationDefinitionNode } from 'graphql';

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
