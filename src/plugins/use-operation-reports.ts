import type { DocumentNode, ExecutionArgs } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { describeOperation, outcomeOf, type Ctx, type OperationReport } from '../observability/operation.js';

const isStream = (value: unknown): boolean => typeof (value as AsyncIterable<unknown> | null)?.[Symbol.asyncIterator] === 'function';

/**
 * One envelop plugin for every report of an operation (metrics, request log), so all see operations the same
 * way (HTTP, SSE and graphql-ws alike, since the WebSocket path runs through yoga's envelop too), and an
 * operation pays for one set of hooks, not one per report (each envelop hook costs every operation a
 * payload and a chain of promise wrappers).
 */
export function useOperationReports(...reports: OperationReport[]): Plugin<Ctx> {
  const report: OperationReport = (context, info, outcome, seconds) => {
    for (const r of reports) r(context, info, outcome, seconds);
  };
  const since = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;
  const fromParams = (context: Ctx, document?: DocumentNode) =>
    describeOperation(document, context.params?.operationName, context.params?.variables);
  const timed = (args: ExecutionArgs) => {
    const start = process.hrtime.bigint();
    const info = describeOperation(args.document, args.operationName, args.variableValues);
    return (result: unknown) =>
      report(args.contextValue as Ctx, info, isStream(result) ? 'ok' : outcomeOf((result as { errors?: readonly unknown[] }).errors), since(start));
  };
  return {
    onParse({ context }) {
      return ({ result }) => {
        if (result instanceof Error) report(context, fromParams(context), 'VALIDATION_ERROR', 0);
      };
    },
    onValidate({ context, params }) {
      return ({ result }) => {
        if (result.length > 0) report(context, fromParams(context, params.documentAST), outcomeOf(result), 0);
      };
    },
    onExecute({ args }) {
      const done = timed(args);
      return { onExecuteDone: ({ result }) => done(result) };
    },
    onSubscribe({ args }) {
      const done = timed(args);
      return { onSubscribeResult: ({ result }) => done(result) };
    },
  };
}
