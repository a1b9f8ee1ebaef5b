import type { Plugin } from 'graphql-yoga';
import type { WriteBatch } from '../store/write-batch.js';

/** No HTTP answer leaves before the writes of its turn are committed (see WriteBatch). */
export function useCommitBeforeAnswer(batch: WriteBatch): Plugin {
  return {
    onResponse() {
      if (batch.pending) return batch.committed();
    },
  };
}
