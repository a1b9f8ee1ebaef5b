import { GraphQLError, Kind, type DocumentNode, type ExecutionArgs, type OperationDefinitionNode, type ValueNode } from 'graphql';
import { EngineError } from '../engine/engine.js';
import { AppError, storeFailureOf } from '../errors.js';

export interface OperationInfo {
  /** The operation's name, or its root fields (`createSession`) when it has none. */
  name: string;
  type: 'query' | 'mutation' | 'subscription' | 'unknown';
  /** The session the operation is about, when its variables or arguments name one. */
  sessionId: string | null;
}

const MAX_NAMES = 500;
const seenNames = new Set<string>();

// Operation names are chosen by clients; past a bound they share one label so /metrics stays small.
function bounded(name: string): string {
  if (seenNames.has(name)) return name;
  if (seenNames.size >= MAX_NAMES) return 'other';
  seenNames.add(name);
  return name;
}

function pickOperation(document: DocumentNode | undefined, operationName: string | null | undefined): OperationDefinitionNode | undefined {
  const ops = (document?.definitions ?? []).filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  return operationName ? ops.find((o) => o.name?.value === operationName) : ops[0];
}

function literalSessionId(value: ValueNode, variables: Record<string, unknown>): string | null {
  if (value.kind === Kind.STRING) return value.value;
  if (value.kind === Kind.VARIABLE) {
    const v = variables[value.name.value];
    return typeof v === 'string' ? v : null;
  }
  return null;
}

function sessionIdOf(op: OperationDefinitionNode | undefined, variables: Record<string, unknown>): string | null {
  for (const selection of op?.selectionSet.selections ?? []) {
    if (selection.kind !== Kind.FIELD) continue;
    for (const arg of selection.arguments ?? []) {
      if (arg.name.value === 'sessionId') return literalSessionId(arg.value, variables);
      if (arg.name.value === 'input') {
        if (arg.value.kind === Kind.OBJECT) {
          const field = arg.value.fields.find((f) => f.name.value === 'sessionId');
          if (field) return literalSessionId(field.value, variables);
        } else if (arg.value.kind === Kind.VARIABLE) {
          const input = variables[arg.value.name.value] as { sessionId?: unknown } | undefined;
          if (typeof input?.sessionId === 'string') return input.sessionId;
        }
      }
    }
  }
  return null;
}

// The name and type depend on the document and the operation name only; the metrics and the request-log
// plugins both ask for every operation.
const described = new WeakMap<DocumentNode, Map<string, { op: OperationDefinitionNode | undefined; name: string; type: OperationInfo['type'] }>>();

export function describeOperation(
  document: DocumentNode | undefined,
  operationName: string | null | undefined,
  variables: unknown,
): OperationInfo {
  const vars = variables && typeof variables === 'object' ? (variables as Record<string, unknown>) : {};
  let byName = document ? described.get(document) : undefined;
  let known = byName?.get(operationName ?? '');
  if (!known) {
    const op = pickOperation(document, operationName);
    const rootFields = (op?.selectionSet.selections ?? []).flatMap((s) => (s.kind === Kind.FIELD ? [s.name.value] : []));
    const name = op?.name?.value ?? operationName ?? (rootFields.length ? rootFields.sort().join(',') : 'anonymous');
    known = { op, name: bounded(name), type: op?.operation ?? 'unknown' };
    if (document) {
      if (!byName) described.set(document, (byName = new Map()));
      if (byName.size < 16) byName.set(operationName ?? '', known);
    }
  }
  return { name: known.name, type: known.type, sessionId: sessionIdOf(known.op, vars) };
}

/** The code a caller sees for an error (what use-error-codes puts in extensions.code). */
export function errorCodeOf(error: unknown): string {
  if (error instanceof GraphQLError) {
    const code = error.extensions?.code;
    if (typeof code === 'string') return code;
    if (error.originalError && error.originalError !== error) return errorCodeOf(error.originalError);
    return 'VALIDATION_ERROR';
  }
  if (error instanceof AppError || error instanceof EngineError) return error.code;
  return storeFailureOf(error)?.code ?? 'INTERNAL_ERROR';
}

/** `ok`, or the code of the first error. */
export function outcomeOf(errors: readonly unknown[] | undefined): string {
  return errors && errors.length > 0 ? errorCodeOf(errors[0]) : 'ok';
}

export type Ctx = Record<string, any>;

/** Reports every GraphQL operation once it is known how it went: parse/validation failure, execution, or subscription start. */
export type OperationReport = (context: Ctx, info: OperationInfo, outcome: string, seconds: number) => void;
