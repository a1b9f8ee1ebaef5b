import { defaultFieldResolver, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { AppError } from '../errors.js';
import { authorize, can, requireAdmin, type Action, type Principal } from './principal.js';

// Who may call each root field. GraphQL and REST share it: REST routes execute through the same schema.
// A root field missing here is admin-only, so a new operation is never open by accident; the auth
// matrix test fails on any field without an explicit rule.

type SessionIdOf = (args: Record<string, any>) => unknown;

export type AccessRule =
  /** Any caller with a valid key. */
  | { kind: 'any' }
  | { kind: 'admin' }
  /** The field's session must be in the key's scope with `action`; otherwise SESSION_NOT_FOUND (or null). */
  | { kind: 'session'; action: Action; sessionId: SessionIdOf; outOfScope?: 'null' }
  /** A list of things with a sessionId: keeps the ones the key may `action`. */
  | { kind: 'filter'; action: Action };

const arg: SessionIdOf = (args) => args.sessionId;
const input: SessionIdOf = (args) => args.input?.sessionId;
const session = (action: Action, sessionId: SessionIdOf = arg): AccessRule => ({ kind: 'session', action, sessionId });

export const accessRules: Record<string, Record<string, AccessRule>> = {
  Query: {
    sessions: { kind: 'filter', action: 'read' },
    session: { kind: 'session', action: 'read', sessionId: arg, outOfScope: 'null' },
    serverInfo: { kind: 'any' },
    health: { kind: 'any' },
    apiKeys: { kind: 'admin' },
    webhooks: session('read'),
  },
  Mutation: {
    createSession: session('manage', input),
    removeSession: session('manage'),
    sandboxScanQr: session('manage'),
    createApiKey: { kind: 'admin' },
    revokeApiKey: { kind: 'admin' },
    sendText: session('send', input),
    sendImage: session('send', input),
    sendFile: session('send', input),
    sendAudio: session('send', input),
    // Acting as the account towards other people counts as sending: groups, read receipts.
    createGroup: session('send', input),
    addParticipants: session('send', input),
    removeParticipants: session('send', input),
    markChatRead: session('send'),
    sandboxInjectMessage: session('manage'),
    registerWebhook: session('manage', input),
    updateWebhook: session('manage', input),
    removeWebhook: session('manage'),
    testWebhook: session('manage'),
    // Takes only a delivery id, so its session is not known before the call: admin keys only for now.
    redeliver: { kind: 'admin' },
  },
  Subscription: {
    qr: session('read'),
    sessionStatus: session('read'),
    events: session('read'),
    message: session('read'),
    ack: session('read'),
  },
};

/** Adds rules for root fields (other domains register theirs next to their resolvers or here). */
export function addAccessRules(typeName: 'Query' | 'Mutation' | 'Subscription', rules: Record<string, AccessRule>): void {
  Object.assign(accessRules[typeName]!, rules);
}

export function ruleFor(typeName: string, fieldName: string): AccessRule {
  return accessRules[typeName]?.[fieldName] ?? { kind: 'admin' };
}

const secured = new WeakSet<GraphQLSchema>();

/** Wraps every root field's resolver (and subscribe) with its access rule. Idempotent per schema. */
export function secureSchema(schema: GraphQLSchema): GraphQLSchema {
  if (secured.has(schema)) return schema;
  secured.add(schema);
  for (const type of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]) {
    if (!type) continue;
    for (const field of Object.values(type.getFields())) {
      const rule = ruleFor(type.name, field.name);
      const label = `${type.name === 'Query' ? '' : `${type.name.toLowerCase()} `}${field.name}`;
      field.resolve = guard(rule, label, field.resolve ?? defaultFieldResolver, true);
      if (field.subscribe) field.subscribe = guard(rule, label, field.subscribe, false);
    }
  }
  return schema;
}

function guard(rule: AccessRule, label: string, next: GraphQLFieldResolver<any, any>, isResolve: boolean): GraphQLFieldResolver<any, any> {
  return (source, args, context, info) => {
    const principal = (context as { auth?: Principal | null }).auth;
    if (!principal) throw new AppError('UNAUTHENTICATED', 'an API key is required', {});
    switch (rule.kind) {
      case 'any':
        return next(source, args, context, info);
      case 'admin':
        requireAdmin(principal, label);
        return next(source, args, context, info);
      case 'session': {
        const sessionId = rule.sessionId(args);
        // A subscription's events are already behind the check made at subscribe time.
        if (isResolve && info.operation.operation === 'subscription') return next(source, args, context, info);
        if (rule.outOfScope === 'null' && typeof sessionId === 'string' && !can(principal, sessionId, rule.action)) return null;
        authorize(principal, sessionId, rule.action);
        return next(source, args, context, info);
      }
      case 'filter': {
        const result = next(source, args, context, info);
        if (principal.admin) return result;
        const keep = (items: unknown) =>
          Array.isArray(items) ? items.filter((item: { sessionId?: unknown }) => typeof item?.sessionId === 'string' && can(principal, item.sessionId, rule.action)) : items;
        return result instanceof Promise ? result.then(keep) : keep(result);
      }
    }
  };
}
