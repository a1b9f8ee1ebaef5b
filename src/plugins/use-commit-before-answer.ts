import type { Plugin } from 'graphql-yoga';
import { errorHeaders, httpStatusFor, storeFailureOf } from '../errors.js';
import type { Commits } from '../store/database.js';

/**
 * No HTTP answer leaves before the writes of its turn are committed (WriteBatch on SQLite, PgBatch on
 * PostgreSQL). A commit that fails replaces the answer: what was not written is never acknowledged.
 */
export function useCommitBeforeAnswer(batch: Commits): Plugin {
  return {
    onResponse({ response, setResponse, fetchAPI }) {
      if (!batch.pending) return;
      return batch.committed().catch((error: unknown) => {
        const failure = storeFailureOf(error);
        const code = failure?.code ?? 'INTERNAL_ERROR';
        const message = failure?.message ?? 'Unexpected error.';
        const body = JSON.stringify({ errors: [{ message, extensions: { code, details: failure?.details ?? {} } }] });
        const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', ...errorHeaders(code) };
        const requestId = response.headers.get('x-request-id');
        if (requestId) headers['x-request-id'] = requestId;
        setResponse(new fetchAPI.Response(body, { status: httpStatusFor(code), headers }));
      });
    },
  };
}
