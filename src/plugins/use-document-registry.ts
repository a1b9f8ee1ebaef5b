import type { DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * The documents the full pipeline has parsed and validated without error, by query text. Validity here
 * depends on the text alone (the rules, armor's limits among them, are fixed at start-up), so the lean
 * HTTP path (src/http/graphql-runner.ts) may run a known text without parsing or validating it again;
 * a text it has not seen, or one that failed, always goes through yoga.
 */
export class DocumentRegistry {
  private readonly documents = new Map<string, DocumentNode>();

  constructor(private readonly max = 1000) {}

  get(query: string): DocumentNode | undefined {
    return this.documents.get(query);
  }

  add(query: string, document: DocumentNode): void {
    if (this.documents.has(query)) return;
    // Oldest out first; a busy server's few hot documents come back through yoga once and stay.
    if (this.documents.size >= this.max) this.documents.delete(this.documents.keys().next().value!);
    this.documents.set(query, document);
  }
}

/** Must be the last plugin, so no later validation hook can still turn the result into errors. */
export function useDocumentRegistry(registry: DocumentRegistry): Plugin {
  return {
    onValidate({ context, params }) {
      const query = (context as { params?: { query?: unknown } } | undefined)?.params?.query;
      if (typeof query !== 'string') return;
      return ({ result }) => {
        if (result.length === 0) registry.add(query, params.documentAST);
      };
    },
  };
}
