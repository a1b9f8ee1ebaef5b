import type { DocumentNode, GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** Why a query text was refused: the errors yoga answered it with, and its document when it parsed. */
export interface DocumentFailure {
  errors: readonly GraphQLError[];
  /** Absent when the text did not parse. */
  document?: DocumentNode;
}

/**
 * The documents the full pipeline has parsed and validated, by query text: those without error, and (apart) those
 * that failed, with their errors. Validity here depends on the text alone (the rules, armor's limits among them,
 * are fixed at start-up), so the lean HTTP path (src/http/graphql-runner.ts) may run a known text without parsing
 * or validating it again, and answer a known failure with its errors; a text it has not seen always goes through
 * yoga. Kept failures make a client that keeps sending a bad document cost what one sending a good one does.
 */
export class DocumentRegistry {
  private readonly documents = new Map<string, DocumentNode>();
  private readonly failures = new Map<string, DocumentFailure>();
  private failedChars = 0;

  /** `maxFailedChars` bounds the kept failures' texts too: every one may be as long as a body. */
  constructor(
    private readonly max = 1000,
    private readonly maxFailedChars = 8 * 1024 * 1024,
  ) {}

  get(query: string): DocumentNode | undefined {
    return this.documents.get(query);
  }

  failure(query: string): DocumentFailure | undefined {
    return this.failures.get(query);
  }

  add(query: string, document: DocumentNode): void {
    if (this.documents.has(query)) return;
    // Oldest out first; a busy server's few hot documents come back through yoga once and stay.
    if (this.documents.size >= this.max) this.documents.delete(this.documents.keys().next().value!);
    this.documents.set(query, document);
  }

  fail(query: string, failure: DocumentFailure): void {
    if (this.failures.has(query) || query.length > this.maxFailedChars) return;
    this.failures.set(query, failure);
    this.failedChars += query.length;
    while (this.failures.size > this.max || this.failedChars > this.maxFailedChars) {
      const oldest = this.failures.keys().next().value!;
      this.failures.delete(oldest);
      this.failedChars -= oldest.length;
    }
  }
}

/** Must be the last plugin, so no later parse or validation hook can still change the outcome. */
export function useDocumentRegistry(registry: DocumentRegistry): Plugin {
  const queryOf = (context: unknown) => {
    const query = (context as { params?: { query?: unknown } } | undefined)?.params?.query;
    return typeof query === 'string' ? query : undefined;
  };
  return {
    onParse({ context }) {
      const query = queryOf(context);
      // Over HTTP only: there yoga's own plugins, later in the chain, add the code and HTTP status to this same error.
      if (query === undefined || !(context as { request?: unknown }).request) return;
      return ({ result }) => {
        if (result instanceof Error && 'extensions' in result) registry.fail(query, { errors: [result as GraphQLError] });
      };
    },
    onValidate({ context, params }) {
      const query = queryOf(context);
      if (query === undefined) return;
      return ({ result }) => {
        if (result.length === 0) registry.add(query, params.documentAST);
        else registry.fail(query, { errors: result as readonly GraphQLError[], document: params.documentAST });
      };
    },
  };
}
