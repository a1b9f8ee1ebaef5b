import type { IncomingMessage, ServerResponse } from 'node:http';
import { getOperationAST, GraphQLError, type DocumentNode, type ExecutionResult } from 'graphql';
import { createGraphQLError, processRegularResult, type YogaServerInstance } from 'graphql-yoga';
import type { Principal } from '../auth/principal.js';
import type { GraphQLContext } from '../context.js';
import type { DocumentFailure, DocumentRegistry } from '../plugins/use-document-registry.js';
import { UNEXPECTED_ERROR_MESSAGE, type MaskError } from '../plugins/use-error-codes.js';
import { rateLimitHeaders, rateLimitRefusal } from '../plugins/use-rate-limit.js';
import type { RateLimiter } from '../auth/rate-limiter.js';
import { clientIdentity, type Authenticator } from '../auth/authenticator.js';
import { describeOperation, outcomeOf, type OperationReport } from '../observability/operation.js';
import type { Answer, ResultCache } from './result-cache.js';
import type { TurnGate } from './turn-gate.js';

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

interface Executed {
  result: ExecutionResult;
  /** The rate-limit headers of the state the operation counted against (useRateLimit leaves it in the context), lower-case names. */
  headers: Record<string, string>;
}

export interface GraphQLRunnerOptions {
  /** Resolves once the writes made so far are committed (WriteBatch); awaited before an answer. */
  committed?: () => Promise<void>;
  /** Told how each operation ran: here ('lean'), answered again from the result cache ('cached'), or handed to yoga. */
  observe?: (path: 'lean' | 'cached' | 'yoga') => void;
  /**
   * Reuse of answers made only of versioned state. A reused answer skips envelop, so what the plugins do for every
   * query is done here: the general rate limit is counted and the operation is reported. The other execute-time
   * checks (useAuth's, armor's input limits) depend only on what the key holds, and the kept answer passed them.
   */
  cache?: { results: ResultCache; limiter: RateLimiter };
  /** Told of the operations answered here without envelop (a kept answer or a kept failure); the plugins report the rest. */
  report?: OperationReport;
  /** Spreads a burst of executions over event-loop turns (a kept answer does not wait). */
  gate?: TurnGate;
}

type Runnable = { doc: DocumentNode; principal: Principal | null };
type Refused = { failure: DocumentFailure; principal: Principal | null };

/**
 * Runs a query or mutation through yoga's envelop pipeline (the same plugins, context, masking and
 * result writer as /graphql) without yoga's Fetch-API layer: no Request/Response objects, no body
 * streams, no per-request AbortSignal. That layer is most of a small request's cost.
 *
 * `run` and `answer` answer null when the request is not the plain case, and the caller hands it to yoga, which
 * stays the one place for everything else: a document seen for the first time (the registry holds only texts
 * yoga has accepted or refused), a missing or wrong API key (useAuth's onParams answer), subscriptions. A text
 * yoga refused (it did not parse or validate) is answered again with the same errors, as yoga answered them.
 */
export class GraphQLRunner {
  private readonly committed: () => Promise<void>;
  private readonly observe: (path: 'lean' | 'cached' | 'yoga') => void;

  constructor(
    private readonly yoga: YogaServerInstance<Record<string, unknown>, GraphQLContext>,
    private readonly registry: DocumentRegistry,
    private readonly auth: Authenticator,
    private readonly maskError: MaskError,
    private readonly o: GraphQLRunnerOptions = {},
  ) {
    this.committed = o.committed ?? (() => Promise.resolve());
    this.observe = o.observe ?? (() => undefined);
  }

  /**
   * Executes, then `render`s the result into the bytes a transport writes, or answers null (the caller hands the
   * request to yoga). Never throws for an operation's own errors. When the operation reads only
   * versioned state (ResultCache), the answer is kept, and given again to the same caller asking the same while
   * that state is unchanged, without executing or rendering. `variant` names everything else `render` depends
   * on (the answer's media type, a REST route's URL). Per-request headers (rate limit) are added to what `render` gives.
   */
  async answer(
    req: IncomingMessage,
    res: ServerResponse | undefined,
    requestId: string,
    params: GraphQLParams,
    variant: string,
    render: (result: ExecutionResult) => Answer,
    document?: DocumentNode,
  ): Promise<Answer | null> {
    const runnable = this.runnable(req, params, document);
    if (!runnable) {
      this.observe('yoga');
      return null;
    }
    if ('failure' in runnable) {
      this.observe('cached');
      return this.refuseAgain(req, requestId, params, runnable, render);
    }
    const cache = this.o.cache;
    const slot = cache?.results.slot(runnable.doc, params.operationName, params.variables, runnable.principal, variant);
    const kept = slot?.get();
    if (cache && kept) {
      this.observe('cached');
      return this.answerAgain(req, requestId, params, runnable, kept, render, cache);
    }
    this.observe('lean');
    const turn = this.o.gate?.enter();
    if (turn) await turn;
    const executed = await this.execute(req, res, requestId, params, runnable);
    const answer = render(executed.result);
    if (slot && !executed.result.errors?.length && answer.status === 200) slot.set(answer);
    return withHeaders(answer, executed.headers);
  }

  private async answerAgain(
    req: IncomingMessage,
    requestId: string,
    params: GraphQLParams,
    { doc, principal }: Runnable,
    kept: Answer,
    render: (result: ExecutionResult) => Answer,
    cache: NonNullable<GraphQLRunnerOptions['cache']>,
  ): Promise<Answer> {
    const start = process.hrtime.bigint();
    let answer = kept;
    let outcome = 'ok';
    if (cache.limiter.settings.enabled) {
      // A query counts against the general limit only (useRateLimit).
      const state = await cache.limiter.hit('general', clientIdentity(principal, req.socket?.remoteAddress));
      if (state.limited) {
        answer = render(rateLimitRefusal(state, cache.limiter.settings.windowMs));
        outcome = 'RATE_LIMITED';
      }
      answer = withHeaders(answer, lowerCaseNames(rateLimitHeaders(state)));
    }
    const context = { req, requestId, auth: principal, params };
    this.o.report?.(context, describeOperation(doc, params.operationName, params.variables), outcome, Number(process.hrtime.bigint() - start) / 1e9);
    return answer;
  }

  /** A document yoga refused, refused again without parsing or validating it (DocumentRegistry.fail). */
  private refuseAgain(req: IncomingMessage, requestId: string, params: GraphQLParams, { failure, principal }: Refused, render: (result: ExecutionResult) => Answer): Answer {
    const answer = render({ errors: failure.errors });
    const outcome = failure.document ? outcomeOf(failure.errors) : 'VALIDATION_ERROR';
    this.o.report?.({ req, requestId, auth: principal, params }, describeOperation(failure.document, params.operationName, params.variables), outcome, 0);
    return answer;
  }

  private async execute(req: IncomingMessage, res: ServerResponse | undefined, requestId: string, params: GraphQLParams, { doc, principal }: Runnable): Promise<Executed> {
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

  private runnable(req: IncomingMessage, params: GraphQLParams, document?: DocumentNode): Runnable | Refused | null {
    const doc = document ?? this.registry.get(params.query);
    const failure = doc ? undefined : this.registry.failure(params.query);
    if (failure) {
      // yoga resolves the operation before validating (an unknown operationName is its own error): its to answer.
      if (failure.document && !getOperationAST(failure.document, params.operationName)) return null;
      return this.admitted(req, (principal) => ({ failure, principal }));
    }
    if (!doc) return null;
    const operation = getOperationAST(doc, params.operationName);
    if (!operation || operation.operation === 'subscription') return null;
    return this.admitted(req, (principal) => ({ doc, principal }));
  }

  /** The caller, or null when there is a key to refuse (yoga's to answer). */
  private admitted<T>(req: IncomingMessage, then: (principal: Principal | null) => T): T | null {
    const principal = this.auth.fromNodeRequest(req);
    if (!this.auth.enabled) return then(principal);
    // A missing or wrong key is yoga's to refuse (401 with WWW-Authenticate), and to count.
    if (!principal) return null;
    this.auth.record(principal);
    return then(principal);
  }

  /** `answer`, as yoga answers a JSON request: its status rules, headers and serialization. */
  async run(
    req: IncomingMessage,
    res: ServerResponse | undefined,
    requestId: string,
    params: GraphQLParams,
    answerType: 'application/json' | 'application/graphql-response+json' = 'application/json',
  ): Promise<RunOutcome | null> {
    const answer = await this.answer(req, res, requestId, params, answerType, (result) => {
      const response = processRegularResult(result, captureFetchApi, answerType) as unknown as CapturedResponse;
      return { status: response.init.status, headers: lowerCaseNames(response.init.headers), body: response.body };
    });
    if (!answer) return null;
    return { status: answer.status, headers: { 'x-request-id': requestId, ...answer.headers }, body: answer.body as string };
  }
}

function withHeaders(answer: Answer, headers: Record<string, string>): Answer {
  for (const _ in headers) return { status: answer.status, headers: { ...answer.headers, ...headers }, body: answer.body };
  return answer;
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
