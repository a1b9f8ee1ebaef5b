import { getArgumentValues, getOperationAST, getVariableValues, Kind, type DocumentNode, type GraphQLField, type GraphQLSchema, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';

export interface RootField {
  typeName: string;
  fieldName: string;
  definition: GraphQLField<unknown, unknown>;
  /** Coerced argument values; null when the arguments are invalid (execution reports that itself). */
  args: Record<string, unknown> | null;
}

/** What envelop hands every onExecute/onSubscribe hook of one operation (the same object to each). */
export interface OperationArgs {
  schema: GraphQLSchema;
  document: DocumentNode;
  operationName?: string | null;
  variableValues?: Record<string, unknown> | null;
}

interface Prepared {
  operation: OperationDefinitionNode | null;
  /** null when the variables do not coerce. */
  variables: Record<string, unknown> | null;
  fields?: RootField[];
}

// The armor, the rate limiter and the graphql-jit switch each need the operation's coerced variables; one
// coercion per operation instead of three (a WeakMap on envelop's args object, which every hook shares).
const prepared = new WeakMap<OperationArgs, Prepared>();

function prepare(args: OperationArgs): Prepared {
  let p = prepared.get(args);
  if (!p) {
    const operation = getOperationAST(args.document, args.operationName) ?? null;
    const definitions = operation?.variableDefinitions ?? [];
    const variables =
      definitions.length === 0 ? {} : (getVariableValues(args.schema, definitions, args.variableValues ?? {}, { maxErrors: 1 }).coerced ?? null);
    prepared.set(args, (p = { operation, variables }));
  }
  return p;
}

/** Whether the operation's variables coerce (false: execution will answer with graphql-js's own variable errors). */
export function variablesCoerce(args: OperationArgs): boolean {
  return prepare(args).variables !== null;
}

/** The root fields an operation will run, with their arguments, for checks made before execution. */
export function rootFields(args: OperationArgs): RootField[] {
  const p = prepare(args);
  return (p.fields ??= collectRootFields(args, p));
}

function collectRootFields(args: OperationArgs, { operation, variables }: Prepared): RootField[] {
  if (!operation) return [];
  const type = args.schema.getRootType(operation.operation);
  if (!type) return [];
  const fragments = new Map(
    args.document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d.selectionSet] as const] : [])),
  );
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
        out.push({ typeName: type.name, fieldName: def.name, definition: def, args: values });
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
