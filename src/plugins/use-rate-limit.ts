import type { GraphQLError } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { bucketOf, ruleOf, sessionIdOf, type FieldBucket } from '../auth/access-policy.js';
import { clientIdentity } from '../auth/authenticator.js';
import type { Principal } from '../auth/principal.js';
import type { RateLimiter, RateLimitState } from '../auth/rate-limiter.js';
import { rootFields } from '../auth/root-fields.js';

// Which bucket a root field counts against (besides the general one, which every operation counts against) is
// declared with the field (`extensions: policy(rule, 'messaging')`, see src/auth/access-policy.ts).
// Messaging is counted per session: the one the field's access rule names.
const perSession: Record<FieldBucket, boolean> = { sessionCreate: false, messaging: true };

const states = new WeakMap<Request, RateLimitState>();

export function rateLimitHeaders(state: RateLimitState): Record<string, string> {
  const headers: Record<string, string> = {
    'X-RateLimit-Limit': String(state.limit),
    'X-RateLimit-Remaining': String(state.remaining),
    'X-RateLimit-Reset': String(state.reset),
  };
  if (state.limited) headers['Retry-After'] = String(state.retryAfter);
  return headers;
}

/** The state the response reports: a refusal first, else the most specific bucket the operation used. */
function pick(found: RateLimitState[]): RateLimitState | undefined {
  return found.find((s) => s.limited) ?? found.find((s) => s.bucket !== 'general') ?? found[0];
}

/** The answer to an operation over a limit: RATE_LIMITED, HTTP 429 (the headers come from rateLimitHeaders). */
export function rateLimitRefusal(state: RateLimitState, windowMs: number): { errors: GraphQLError[] } {
  const message = `Too many requests: at most ${state.limit} per ${Math.round(windowMs / 1000)} s (${state.bucket}); retry in ${state.retryAfter} s`;
  return {
    errors: [
      createGraphQLError(message, {
        extensions: {
          code: 'RATE_LIMITED',
          details: { bucket: state.bucket, limit: state.limit, retryAfter: state.retryAfter, reset: state.reset },
          // The headers (Retry-After included) are set once, by whoever writes the response (onResponse, the lean runner).
          http: { status: 429 },
        },
      }),
    ],
  };
}

interface RateContext {
  auth?: Principal | null;
  clientIp?: string;
  request?: Request;
  rateLimit?: RateLimitState;
}

/**
 * Session creation, messaging per session and a general limit, keyed by API key (or client IP).
 * Over a limit: RATE_LIMITED, HTTP 429 with Retry-After. HTTP responses carry X-RateLimit-* headers;
 * the state is also left in context.rateLimit for transports that write their own responses.
 */
export function useRateLimit(limiter: RateLimiter): Plugin<RateContext> {
  const check = async (args: {
    schema: Parameters<typeof rootFields>[0]['schema'];
    document: Parameters<typeof rootFields>[0]['document'];
    operationName?: string | null;
    variableValues?: Record<string, unknown> | null;
    contextValue: RateContext;
  }) => {
    const ctx = args.contextValue;
    const client = clientIdentity(ctx.auth, ctx.clientIp);
    const found: RateLimitState[] = [];
    for (const field of rootFields(args)) {
      const bucket = bucketOf(field.definition);
      if (bucket) {
        const sessionId = perSession[bucket] ? sessionIdOf(ruleOf(field.definition), field.args) : undefined;
        found.push(await limiter.hit(bucket, client, typeof sessionId === 'string' ? sessionId : ''));
      }
      if (found.at(-1)?.limited) break;
    }
    if (!found.some((s) => s.limited)) found.push(await limiter.hit('general', client));
    const state = pick(found);
    if (state) {
      ctx.rateLimit = state;
      if (ctx.request) states.set(ctx.request, state);
    }
    return state?.limited ? state : null;
  };
  const refusal = (state: RateLimitState) => rateLimitRefusal(state, limiter.settings.windowMs);
  // Turned off, the plugin has no execute hooks at all: an async hook costs every operation a promise.
  if (!limiter.settings.enabled) return {};
  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const limited = await check(args as never);
      if (limited) setResultAndStopExecution(refusal(limited));
    },
    async onSubscribe({ args, setResultAndStopExecution }) {
      const limited = await check(args as never);
      if (limited) setResultAndStopExecution(refusal(limited));
    },
    onResponse({ request, response }) {
      const state = states.get(request);
      if (!state) return;
      for (const [name, value] of Object.entries(rateLimitHeaders(state))) response.headers.set(name, value);
    },
  };
}
