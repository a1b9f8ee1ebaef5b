import { GraphQLError } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { EngineError } from '../engine/engine.js';
import { AppError, errorHeaders, httpStatusFor, storeFailureOf } from '../errors.js';
import type { Logger } from '../logger.js';

/** What a masked unexpected error says (yoga's maskedErrors.errorMessage default), on every path that masks. */
export const UNEXPECTED_ERROR_MESSAGE = 'Unexpected error.';

export type MaskError = (error: unknown, message: string) => Error;

/**
 * Expected errors (AppError, EngineError) reach the caller with extensions.code and details; anything
 * else is logged and masked as INTERNAL_ERROR. Used as yoga's maskError so it also covers graphql-ws.
 */
export function createMaskError(logger: Logger): MaskError {
  return (error: unknown, message: string): Error => {
    const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
    const path = error instanceof GraphQLError ? error.path : undefined;
    // A full disk or an unreachable database: every transport answers STORAGE_FULL (507) or DATABASE_UNAVAILABLE
    // (503, with Retry-After), and GraphQL over HTTP with that status.
    const storage = storeFailureOf(original);
    if (storage) {
      return createGraphQLError(storage.message, {
        path,
        extensions: { code: storage.code, details: storage.details, http: { status: httpStatusFor(storage.code), headers: errorHeaders(storage.code) } },
      });
    }
    if (original instanceof AppError || original instanceof EngineError) {
      return createGraphQLError(original.message, { path, extensions: { code: original.code, details: original.details } });
    }
    if (original instanceof GraphQLError && !(original.originalError && !(original.originalError instanceof GraphQLError))) {
      if (original.extensions?.code) return original;
      return createGraphQLError(original.message, {
        nodes: original.nodes,
        source: original.source,
        positions: original.positions,
        path: original.path,
        extensions: { ...original.extensions, code: 'VALIDATION_ERROR' },
      });
    }
    logger.error('unexpected error', { err: String((original as Error)?.stack ?? original) });
    return createGraphQLError(message, { path, extensions: { code: 'INTERNAL_ERROR' } });
  };
}

/** GraphQL parse/validation errors (bad documents, wrong variables) carry the VALIDATION_ERROR code too. */
export function useErrorCodes(): Plugin {
  return {
    onValidate() {
      return ({ result, setResult }) => {
        if (result.length === 0) return;
        setResult(
          result.map((e) =>
            e.extensions?.code
              ? e
              : createGraphQLError(e.message, { nodes: e.nodes, source: e.source, positions: e.positions, extensions: { ...e.extensions, code: 'VALIDATION_ERROR' } }),
          ),
        );
      };
    },
  };
}
