import { getArgumentValues, getVariableValues, Kind, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';

export interface RootField {
  typeName: string;
  fieldName: string;
  /** Coerced argument values; null when the arguments are invalid (execution reports that itself). */
  args: Record<string, unknown> | null;
}

/** The root fields an operation will run, with their arguments, for checks made before execution. */
export function rootFields(args: {
  schema: GraphQLSchema;
  document: DocumentNode;
  operationName?: string | null;
  variableValues?: Record<string, unknown> | null;
}): RootField[] {
  const operations = args.document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const operation = args.operationName ? operations.find((o) => o.name?.value === args.operationName) : operations.length === 1 ? operations[0] : undefined;
  if (!operation) return [];
  const type = args.schema.getRootType(operation.operation);
  if (!type) return [];
  const fragments = new Map(
    args.document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d.selectionSet] as const] : [])),
  );
  const coerced = getVariableValues(args.schema, operation.variableDefinitions ?? [], args.variableValues ?? {});
  const variables = coerced.coerced ?? null;
  const fields = type.getFields();
  const out: RootField[] = [];
  const seen = new Set<string>();
  const visit = (set: SelectionSetNode, depth: number) => {
    if (depth > 10) return;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        const def = fields[selection.name.value];
        if (!def) continue;
        let values: Record<string, unknown> | null = null;
        if (variables) {
          try {
            values = getArgumentValues(def, selection, variables);
          } catch {
            values = null;
          }
        }
        out.push({ typeName: type.name, fieldName: def.name, args: values });
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        visit(selection.selectionSet, depth + 1);
      } else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (fragment && !seen.has(name)) {
          seen.add(name);
          visit(fragment, depth + 1);
        }
      }
    }
  };
  visit(operation.selectionSet, 0);
  return out;
}
