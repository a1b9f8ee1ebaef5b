import {
  getNamedType,
  getOperationAST,
  isObjectType,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLObjectType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import type { Principal } from '../auth/principal.js';

/** The answer made for an operation, as a transport writes it; per-request headers (request id, rate limit) are added on top. */
export interface Answer {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: string | Buffer;
}

/**
 * How a field says what its value depends on (GraphQL field extensions, set where the field is defined):
 * - `versionedBy: 'sessions'` on a root field: what it returns, and everything reachable from that, changes only
 *   together with that version counter (ResultCache's `versions`); its answer may still depend on the caller
 *   (access rules) and on its arguments, which are part of the key.
 * - `derivedFromParent: true`: the value is computed from the parent object alone. Pothos' exposed fields
 *   (`t.exposeString(...)`) are that by construction (extensions.pothosExposedField).
 * Any other field makes the operation uncacheable, so a new field with a resolver of its own is never cached.
 */
export type StateExtensions = {
  versionedBy?: string;
  derivedFromParent?: boolean;
};

interface Plan {
  /** The version counters the operation's fields depend on. */
  sources: readonly string[];
  /** The version every kept answer was made at: answers of an older one are dropped, not kept beside it. */
  version: string | number | null;
  entries: Map<string, Answer>;
}

export interface ResultCacheOptions {
  /** Answers kept per operation (callers, variables and media types together); the oldest goes first. */
  maxEntries?: number;
  /** Longer answers (in characters) are not kept. */
  maxBodyBytes?: number;
}

/**
 * Answers to queries made only of versioned state (see StateExtensions), kept per operation, caller, variables
 * and answer variant, and given again while every counter they depend on is unchanged. The answer is the
 * written bytes, so a repeated `sessions` list costs neither execution nor serialization. Nothing expires by
 * time: an answer is reused only while it would be exactly what executing again would give.
 */
export class ResultCache {
  private readonly plans = new WeakMap<DocumentNode, Map<string, Plan | null>>();
  private readonly maxEntries: number;
  private readonly maxBodyBytes: number;

  constructor(
    private readonly schema: GraphQLSchema,
    /** The version counters root fields name in `versionedBy`. */
    private readonly versions: Readonly<Record<string, () => number>>,
    options: ResultCacheOptions = {},
  ) {
    this.maxEntries = options.maxEntries ?? 32;
    this.maxBodyBytes = options.maxBodyBytes ?? 4 * 1024 * 1024;
  }

  /**
   * The slot this request's answer is kept in, or null when the operation reads anything that is not versioned
   * state. Take it before executing: the version it holds is the one the execution starts from.
   */
  slot(document: DocumentNode, operationName: string | null | undefined, variables: unknown, principal: Principal | null, variant: string): CacheSlot | null {
    const plan = this.plan(document, operationName);
    if (!plan) return null;
    const vars = variables === undefined || variables === null ? '' : JSON.stringify(variables);
    return new CacheSlot(this, plan, `${variant}\u0000${callerKey(principal)}\u0000${vars}`, this.versionOf(plan));
  }

  /** @internal The answer for `key` made at `version`, or undefined. */
  kept(plan: Plan, key: string, version: string | number): Answer | undefined {
    return plan.version === version ? plan.entries.get(key) : undefined;
  }

  /** @internal */
  keep(plan: Plan, key: string, version: string | number, answer: Answer): void {
    // Something changed while the answer was made: it may already be out of date.
    if (answer.body.length > this.maxBodyBytes || this.versionOf(plan) !== version) return;
    if (plan.version !== version) {
      plan.entries.clear();
      plan.version = version;
    }
    if (!plan.entries.has(key) && plan.entries.size >= this.maxEntries) plan.entries.delete(plan.entries.keys().next().value!);
    plan.entries.set(key, answer);
  }

  private versionOf(plan: Plan): string | number {
    if (plan.sources.length === 1) return this.versions[plan.sources[0]!]!();
    return plan.sources.map((s) => this.versions[s]!()).join(',');
  }

  private plan(document: DocumentNode, operationName: string | null | undefined): Plan | null {
    let byName = this.plans.get(document);
    if (!byName) this.plans.set(document, (byName = new Map()));
    const name = operationName ?? '';
    let plan = byName.get(name);
    if (plan === undefined) {
      plan = this.analyse(document, operationName);
      if (byName.size < 16) byName.set(name, plan);
    }
    return plan;
  }

  private analyse(document: DocumentNode, operationName: string | null | undefined): Plan | null {
    const operation = getOperationAST(document, operationName);
    const query = this.schema.getQueryType();
    if (!operation || operation.operation !== 'query' || !query) return null;
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
    const sources = new Set<string>();
    const visiting = new Set<string>();
    const walk = (type: GraphQLObjectType, set: SelectionSetNode): boolean => {
      for (const selection of set.selections) {
        // @skip and @include depend on variables, which are part of the key; anything else (@defer, @stream ...) is not cached.
        if (selection.directives?.some((d) => d.name.value !== 'skip' && d.name.value !== 'include')) return false;
        if (selection.kind === Kind.FIELD) {
          const name = selection.name.value;
          if (name === '__typename') continue;
          const field = type.getFields()[name];
          if (!field) return false;
          const ext = field.extensions as StateExtensions & { pothosExposedField?: unknown };
          if (type === query) {
            if (!ext.versionedBy || !this.versions[ext.versionedBy]) return false;
            sources.add(ext.versionedBy);
          } else if (ext.derivedFromParent !== true && typeof ext.pothosExposedField !== 'string') {
            return false;
          }
          const named = getNamedType(field.type);
          if (selection.selectionSet && (!isObjectType(named) || !walk(named, selection.selectionSet))) return false;
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          if (selection.typeCondition && selection.typeCondition.name.value !== type.name) return false;
          if (!walk(type, selection.selectionSet)) return false;
        } else {
          const fragment = fragments.get(selection.name.value);
          if (!fragment || fragment.typeCondition.name.value !== type.name || visiting.has(fragment.name.value)) return false;
          visiting.add(fragment.name.value);
          const ok = walk(type, fragment.selectionSet);
          visiting.delete(fragment.name.value);
          if (!ok) return false;
        }
      }
      return true;
    };
    if (operation.directives?.length || !walk(query, operation.selectionSet) || sources.size === 0) return null;
    return { sources: [...sources].sort(), version: null, entries: new Map() };
  }
}

export class CacheSlot {
  constructor(
    private readonly cache: ResultCache,
    private readonly plan: Plan,
    private readonly key: string,
    private readonly version: string | number,
  ) {}

  /** The kept answer, when the state it was made from is still the current one. */
  get(): Answer | undefined {
    return this.cache.kept(this.plan, this.key, this.version);
  }

  set(answer: Answer): void {
    this.cache.keep(this.plan, this.key, this.version, answer);
  }
}

// What the access rules let a caller see: an admin everything, a scoped key its sessions and actions.
function callerKey(principal: Principal | null): string {
  if (!principal) return '-';
  if (principal.admin) return 'admin';
  return `${principal.id}\u0001${principal.sessionIds.join(',')}\u0001${principal.actions.join(',')}`;
}
