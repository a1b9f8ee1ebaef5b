import type { Plugin } from 'graphql-yoga';
import type { Metrics } from '../observability/metrics.js';
import { operationHooks } from '../observability/operation.js';

/** Counts GraphQL operations by name, type and outcome (ok or the first error code), with their duration. */
export function useMetrics(metrics: Metrics): Plugin {
  return operationHooks((_context, info, outcome, seconds) => metrics.graphqlOperation(info.name, info.type, outcome, seconds));
}
