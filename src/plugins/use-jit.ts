import type { DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { variablesCoerce } from '../auth/root-fields.js';

/**
 * Queries and mutations run compiled by graphql-jit (one compilation per document, cached). Subscriptions
 * stay on graphql-js: graphql-jit 0.8.7's subscribe passed the subscribe resolver no arguments.
 * graphql-jit is loaded in the background after the first operation, so it costs nothing at start-up:
 * the operations before it is ready run on graphql-js. Operations whose variables do not coerce also run
 * on graphql-js, whose errors (locations, HTTP 400) clients know.
 */
export function useJit(): Plugin {
  let jit: Plugin | null = null;
  const seen = new WeakMap<DocumentNode, number>();
  let loading = false;
  const load = () => {
    if (loading) return;
    loading = true;
    setImmediate(() => {
      import('@envelop/graphql-jit').then(
        ({ useGraphQlJit }) => (jit = useGraphQlJit() as Plugin),
        () => undefined, // stays on graphql-js
      );
    });
  };
  return {
    onExecute(payload) {
      if (!jit?.onExecute) return load();
      const { document } = payload.args;
      // Compiling costs more than one interpreted run: a document is compiled on its second execution, so
      // clients that put literals in every document (each one new) do not pay for compilations never reused.
      const runs = (seen.get(document) ?? 0) + 1;
      if (runs < 2) {
        seen.set(document, runs);
        return;
      }
      if (variablesCoerce(payload.args)) return jit.onExecute(payload);
    },
  };
}
