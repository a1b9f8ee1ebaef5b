import { defaultFieldResolver, GraphQLObjectType, type GraphQLField, type GraphQLFieldResolver, type GraphQLNamedType, type GraphQLSchema } from 'graphql';
import { AppError } from '../errors.js';
import { authorize, can, requireAdmin, type Action, type Principal } from './principal.js';
import type { Bucket } from './rate-limiter.js';

// Who may call each root field, and which rate-limit bucket it counts against, is declared where the
// field is defined: its Pothos `extensions` carry a policy (`extensions: policy(session('send', 'input'),
// 'messaging')`). GraphQL and REST share it: REST routes execute through the same schema. A root field
// without one is admin-only, so a new operation is never open by accident; the auth matrix test fails on
// any root field without an explicit rule, and start-up fails on a policy the guard or limiter would not read.

/** Where a field's session id is: `args.sessionId` or `args.input.sessionId`. */
export type SessionIdIn = 'args' | 'input';

export type AccessRule =
  /** Any caller with a valid key. */
  | { kind: 'any' }
  | { kind: 'admin' }
  /** The field's session must be in the key's scope with `action`; otherwise SESSION_NOT_FOUND (or null). */
  | { kind: 'session'; action: Action; sessionIdIn: SessionIdIn; outOfScope?: 'null' }
  /** A list of things with a sessionId: keeps the ones the key may `action`. */
  | { kind: 'filter'; action: Action };

/** The buckets a field can count against besides `general`, which every operation counts against. */
export const fieldBuckets = ['sessionCreate', 'messaging'] as const satisfies readonly Bucket[];
export type FieldBucket = (typeof fieldBuckets)[number];

/** What a root field's `extensions` carry (a type, not an interface: Pothos takes a Record). */
export type FieldPolicy = {
  access: AccessRule;
  rateLimit?: FieldBucket;
};

export const anyKey = (): AccessRule => ({ kind: 'any' });
export const adminOnly = (): AccessRule => ({ kind: 'admin' });
export const session = (action: Action, sessionIdIn: SessionIdIn = 'args', outOfScope?: 'null'): AccessRule =>
  outOfScope ? { kind: 'session', action, sessionIdIn, outOfScope } : { kind: 'session', action, sessionIdIn };
export const filtered = (action: Action): AccessRule => ({ kind: 'filter', action });

/** A root field's `extensions`: its access rule and, when it has one, its rate-limit bucket. */
export function policy(access: AccessRule, rateLimit?: FieldBucket): FieldPolicy {
  return rateLimit ? { access, rateLimit } : { access };
}

export function sessionIdOf(rule: AccessRule, args: Record<string, any> | null | undefined): unknown {
  if (rule.kind !== 'session' || !args) return undefined;
  return rule.sessionIdIn === 'input' ? args.input?.sessionId : args.sessionId;
}

const ADMIN: AccessRule = { kind: 'admin' };
const isRoot = (schema: GraphQLSchema, type: GraphQLNamedType) =>
  type === schema.getQueryType() || type === schema.getMutationType() || type === schema.getSubscriptionType();

/** A field's access rule: its declared one, admin-only when it has none. */
export function ruleOf(field: GraphQLField<unknown, unknown>): AccessRule {
  return (field.extensions as Partial<FieldPolicy>).access ?? ADMIN;
}

/** The bucket a field counts against (besides `general`), if any. */
export function bucketOf(field: GraphQLField<unknown, unknown>): FieldBucket | undefined {
  return (field.extensions as Partial<FieldPolicy>).rateLimit;
}

/** A root field's rule by name (`Mutation`, `sendText`); admin-only for a field without one. */
export function ruleFor(schema: GraphQLSchema, typeName: string, fieldName: string): AccessRule {
  const type = schema.getType(typeName);
  const field = type && isRoot(schema, type) ? (type as GraphQLObjectType).getFields()[fieldName] : undefined;
  return field ? ruleOf(field) : ADMIN;
}

export type DeclaredPolicy = Partial<FieldPolicy> & { typeName: string; fieldName: string };

/**
 * Every field of the schema that declares an access rule or a bucket. Throws when one is declared where
 * nothing reads it (a field that is not a root field: the guard and the limiter only look at those) or
 * is not one they know.
 */
export function declaredPolicies(schema: GraphQLSchema): DeclaredPolicy[] {
  const out: DeclaredPolicy[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!(type instanceof GraphQLObjectType) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const { access, rateLimit } = field.extensions as Partial<FieldPolicy>;
      if (access === undefined && rateLimit === undefined) continue;
      const where = `${type.name}.${field.name}`;
      if (!isRoot(schema, type)) throw new Error(`${where} declares an access rule or rate-limit bucket, but only root fields are guarded and limited`);
      if (access !== undefined && !['any', 'admin', 'session', 'filter'].includes((access as { kind?: string })?.kind ?? '')) {
        throw new Error(`${where} declares an unknown access rule ${JSON.stringify(access)}`);
      }
      if (rateLimit !== undefined && !(fieldBuckets as readonly string[]).includes(rateLimit)) throw new Error(`${where} declares an unknown rate-limit bucket '${rateLimit}'`);
      out.push({ typeName: type.name, fieldName: field.name, access, rateLimit });
    }
  }
  return out;
}

const secured = new WeakSet<GraphQLSchema>();

/** Wraps every root field's resolver (and subscribe) with its access rule. Idempotent per schema. */
export function secureSchema(schema: GraphQLSchema): GraphQLSchema {
  if (secured.has(schema)) return schema;
  secured.add(schema);
  declaredPolicies(schema);
  for (const type of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]) {
    if (!type) continue;
    for (const field of Object.values(type.getFields())) {
      const rule = ruleOf(field);
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
        const sessionId = sessionIdOf(rule, args);
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
