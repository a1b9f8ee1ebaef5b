import type { Plugin } from 'graphql-yoga';
import type { Commits } from '../store/database.js';

/** No HTTP answer leaves before the writes of its turn are committed (WriteBatch on SQLite, PgBatch on PostgreSQL). */
export function useCommitBeforeAnswer(batch: Commits): Plugin {
  return {
    onResponse() {
      if (batch.pending) return batch.committed();
    },
  };
}
