import type { IncomingMessage, ServerResponse } from 'node:http';
import { getOperationAST, GraphQLError, type DocumentNode, type ExecutionResult } from 'graphql';
import { createGraphQLError, processRegularResult, type YogaServerInstance } from 'graphql-yoga';
import type { Authenticator } from '../auth/authenticator.js';
import type { Principal } from '../auth/principal.js';
import type { GraphQLContext } from '../context.js';
import type { DocumentRegistry } from '../plugins/use-document-registry.js';
import { UNEXPECTED_ERROR_MESSAGE, type MaskError } from '../plugins/use-error-codes.js';
import { rateLimitHeaders } from '../plugins/use-rate-limit.js';

export interface GraphQLParams {
  query: string;
  variables?: Record<string, unknown> | null;
  operationName?: string | null;
  extensions?: Record<string, unknown> | null;
}

export interface RunOutcome {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: string;
}

// processRegularResult (yoga's own JSON result writer, so status codes and error shapes stay yoga's)
// builds a Fetch Response; this stand-in keeps its body and init instead.
class CapturedResponse {
  constructor(
    readonly body: string,
    readonly init: { status: number; headers: Record<string, string> },
  ) {}
}
const captureFetchApi = { Response: CapturedResponse } as unknown as Parameters<typeof processRegularResult>[1];

export interface Executed {
  result: ExecutionResult;
  /** The rate-limit headers of the state the operation counted against (useRateLimit leaves it in the context), lower-case names. */
  headers: Record<string, string>;
}

/**
 * Runs a query or mutation through yoga's envelop pipeline (the same plugins, context, masking and
 * result writer as /graphql) without yoga's Fetch-API layer: no Request/Response objects, no body
 * streams, no per-request AbortSignal. That layer is most of a small request's cost.
 *
 * `run` answers null when the request is not the plain case, and the caller hands it to yoga, which
 * stays the one place for everything else: a document not yet validated (the registry holds only
 * texts yoga has accepted), a missing or wrong API key (useAuth's onParams answer), subscriptions.
 */
export class GraphQLRunner {
  constructor(
    private readonly yoga: YogaServerInstance<Record<string, unknown>, GraphQLContext>,
    private readonly registry: DocumentRegistry,
    private readonly auth: Authenticator,
    private readonly maskError: MaskError,
    /** Resolves once the writes made so far are committed (WriteBatch); awaited before an answer. */
    private readonly committed: () => Promise<void> = () => Promise.resolve(),
    /** Told whether each operation ran here ('lean') or was declined and handed to yoga. */
    private readonly observe: (path: 'lean' | 'yoga') => void = () => undefined,
  ) {}

  /** Executes, or answers null (the caller hands the request to yoga). Never throws for an operation's own errors. */
  async execute(req: IncomingMessage, res: ServerResponse | undefined, requestId: string, params: GraphQLParams, document?: DocumentNode): Promise<Executed | null> {
    const runnable = this.runnable(req, params, document);
    this.observe(runnable ? 'lean' : 'yoga');
    if (!runnable) return null;
    const { doc, principal } = runnable;
    try {
      // What yoga's server context and handleParams would put in the initial context, minus `request`, plus
      // the caller already identified here (so the context does not hash the key a second time).
      const enveloped = this.yoga.getEnveloped({ req, res, params, requestId, principal });
      const contextValue = (await enveloped.contextFactory()) as unknown as GraphQLContext;
      const result = (await enveloped.execute({
        schema: enveloped.schema,
        document: doc,
        contextValue,
        variableValues: params.variables,
        operationName: params.operationName,
      })) as ExecutionResult;
      await this.committed();
      return { result, headers: contextValue.rateLimit ? lowerCaseNames(rateLimitHeaders(contextValue.rateLimit)) : {} };
    } catch (error) {
      const masked = this.maskError(error, UNEXPECTED_ERROR_MESSAGE);
      return { result: { errors: [masked instanceof GraphQLError ? masked : createGraphQLError(masked.message, { originalError: masked })] }, headers: {} };
    }
  }

  private runnable(req: IncomingMessage, params: GraphQLParams, document?: DocumentNode): { doc: DocumentNode; principal: Principal | null } | null {
    const doc = document ?? this.registry.get(params.query);
    if (!doc) return null;
    const operation = getOperationAST(doc, params.operationName);
    if (!operation || operation.operation === 'subscription') return null;
    const principal = this.auth.fromNodeRequest(req);
    if (!this.auth.enabled) return { doc, principal };
    // A missing or wrong key is yoga's to refuse (401 with WWW-Authenticate), and to count.
    if (!principal) return null;
    this.auth.record(principal);
    return { doc, principal };
  }

  /** `execute`, answered as yoga answers a JSON request: its status rules, headers and serialization. */
  async run(
    req: IncomingMessage,
    res: ServerResponse | undefined,
    requestId: string,
    params: GraphQLParams,
    answerType: 'application/json' | 'application/graphql-response+json' = 'application/json',
  ): Promise<RunOutcome | null> {
    const executed = await this.execute(req, res, requestId, params);
    if (!executed) return null;
    const response = processRegularResult(executed.result, captureFetchApi, answerType) as unknown as CapturedResponse;
    const headers = { 'x-request-id': requestId, ...lowerCaseNames(response.init.headers), ...executed.headers };
    return { status: response.init.status, headers, body: response.body };
  }
}

/** Header names as node writes them once: whatwg-node and our plugins keep the case they were given. */
export function lowerCaseNames(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value;
  return out;
}

/** The fields a plain GraphQL-over-HTTP JSON body may hold; anything else is yoga's to answer. */
export function plainParams(value: unknown): GraphQLParams | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const body = value as Record<string, unknown>;
  for (const key in body) if (key !== 'query' && key !== 'variables' && key !== 'operationName' && key !== 'extensions') return null;
  if (typeof body.query !== 'string') return null;
  const isObject = (v: unknown) => v === undefined || v === null || (typeof v === 'object' && !Array.isArray(v));
  if (!isObject(body.variables) || !isObject(body.extensions)) return null;
  if (body.operationName !== undefined && body.operationName !== null && typeof body.operationName !== 'string') return null;
  return body as unknown as GraphQLParams;
}
