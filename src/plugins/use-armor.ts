import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { GraphQLError, NoSchemaIntrospectionCustomRule, type DocumentNode, type ValidationContext } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { rootFields } from '../auth/root-fields.js';
import type { Config } from '../config.js';
import { preparsedLength } from '../messaging/preparsed-media.js';

export type ArmorRule = 'maxDepth' | 'maxAliases' | 'maxTokens' | 'maxCost' | 'maxDirectives' | 'introspection' | 'inputLimits';

export interface ArmorCounters {
  rejected: Record<ArmorRule, number>;
}

export interface ArmorOptions {
  armor: Config['armor'];
  limits: Config['limits'];
  introspection: boolean;
}

/** Argument keys whose strings are bounded elsewhere (media data URLs: by the media size limits). */
const UNBOUNDED_STRING_KEYS = new Set(['data']);

/**
 * GraphQL hardening in one named plugin: graphql-armor's depth, alias, token, cost and directive limits,
 * field suggestions hidden, introspection on or off, and limits on argument strings and lists.
 * Rejections carry VALIDATION_ERROR with details.rule; `counters` counts them per rule.
 */
export function useArmor(options: ArmorOptions): Plugin & { counters: ArmorCounters } {
  const counters: ArmorCounters = {
    rejected: { maxDepth: 0, maxAliases: 0, maxTokens: 0, maxCost: 0, maxDirectives: 0, introspection: 0, inputLimits: 0 },
  };
  // graphql-armor labels every rejection "Syntax Error:" and throws it out of validation (which yoga then answers
  // unlike other validation errors: 200, not 400). Its validation rules report it as any rule does instead, worded
  // for the limit; the token limit, which stops the parser itself, still throws, reworded the same way.
  const reject = (rule: ArmorRule) => [
    (ctx: ValidationContext | null, error: GraphQLError) => {
      counters.rejected[rule]++;
      const { message, details } = armorRejection(rule, error.message);
      if (ctx) {
        ctx.reportError(createGraphQLError(message, { extensions: { code: 'VALIDATION_ERROR', details } }));
        return;
      }
      error.message = message;
      error.extensions.code = 'VALIDATION_ERROR';
      error.extensions.details = details;
    },
  ];
  const { armor, limits } = options;
  const reported = { propagateOnRejection: false, exposeLimits: true };
  const plugins: Plugin[] = [
    maxDepthPlugin({ n: armor.maxDepth, onReject: reject('maxDepth'), ...reported }),
    maxAliasesPlugin({ n: armor.maxAliases, onReject: reject('maxAliases'), ...reported }),
    maxTokensPlugin({ n: armor.maxTokens, onReject: reject('maxTokens'), exposeLimits: true }),
    costLimitPlugin({ maxCost: armor.maxCost, onReject: reject('maxCost'), ...reported }),
    maxDirectivesPlugin({ n: armor.maxDirectives, onReject: reject('maxDirectives'), ...reported }),
    blockFieldSuggestionsPlugin(),
  ];
  const plugin: Plugin & { counters: ArmorCounters } = {
    counters,
    onPluginInit({ addPlugin }) {
      for (const p of plugins) addPlugin(p);
    },
    onValidate({ addValidationRule }) {
      if (options.introspection) return;
      addValidationRule(NoSchemaIntrospectionCustomRule);
      return ({ result }) => {
        if (result.some((e) => e.message.includes('introspection has been disabled'))) counters.rejected.introspection++;
      };
    },
    onExecute({ args, setResultAndStopExecution }) {
      const problem = inputProblem(args as never, limits);
      if (problem) {
        counters.rejected.inputLimits++;
        setResultAndStopExecution({ errors: [problem] });
      }
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const problem = inputProblem(args as never, limits);
      if (problem) {
        counters.rejected.inputLimits++;
        setResultAndStopExecution({ errors: [problem] });
      }
    },
  };
  return plugin;
}

const ARMOR_WORDING: Partial<Record<ArmorRule, [string, string]>> = {
  maxDepth: ['Query too deep', 'depth '],
  maxAliases: ['Too many aliases', ''],
  maxTokens: ['Too many tokens', ''],
  maxCost: ['Query too costly', 'cost '],
  maxDirectives: ['Too many directives', ''],
};

/** graphql-armor's "Syntax Error: Query Cost limit of 20 exceeded, found 27.5." as "Query too costly: cost 27.5, at most 20 (maxCost)". */
export function armorRejection(rule: ArmorRule, raw: string): { message: string; details: Record<string, unknown> } {
  const match = /limit of (\d+(?:\.\d+)?) exceeded(?:, found (\d+(?:\.\d+)?))?/.exec(raw);
  const [what, unit] = ARMOR_WORDING[rule] ?? [rule, ''];
  if (!match) return { message: `${what}: ${raw.replace(/^Syntax Error: /, '')} (${rule})`, details: { rule } };
  const limit = Number(match[1]);
  if (match[2] === undefined) return { message: `${what}: more than ${limit} (${rule})`, details: { rule, limit } };
  const found = Number(match[2]);
  return { message: `${what}: ${unit}${found}, at most ${limit} (${rule})`, details: { rule, limit, found } };
}

// A document without a "(" has no arguments and no variables, so nothing for the input limits to check.
const withoutArguments = new WeakMap<DocumentNode, boolean>();
function hasNoArguments(document: DocumentNode): boolean {
  let known = withoutArguments.get(document);
  if (known === undefined) withoutArguments.set(document, (known = document.loc !== undefined && !document.loc.source.body.includes('(')));
  return known;
}

function inputProblem(args: Parameters<typeof rootFields>[0], limits: Config['limits']): GraphQLError | null {
  if (hasNoArguments(args.document)) return null;
  for (const field of rootFields(args)) {
    if (!field.args) continue;
    const found = walk(field.args, field.fieldName, limits, 0);
    if (found) {
      return createGraphQLError(found.message, { path: [field.fieldName], extensions: { code: 'VALIDATION_ERROR', details: found.details } });
    }
  }
  return null;
}

function walk(value: unknown, path: string, limits: Config['limits'], depth: number, key = ''): { message: string; details: Record<string, unknown> } | null {
  if (depth > 32) return null;
  if (typeof value === 'string') {
    // A big data URL the body parser took apart stands in as a short marker: its own length counts.
    const length = UNBOUNDED_STRING_KEYS.has(key) ? 0 : (preparsedLength(value) ?? value.length);
    if (length > limits.maxStringLength) {
      return { message: `${path} is too long: ${length} characters, at most ${limits.maxStringLength}`, details: { field: path, rule: 'maxStringLength', limit: limits.maxStringLength } };
    }
    return null;
  }
  if (Array.isArray(value)) {
    if (value.length > limits.maxListLength) {
      return { message: `${path} has too many items: ${value.length}, at most ${limits.maxListLength}`, details: { field: path, rule: 'maxListLength', limit: limits.maxListLength } };
    }
    for (let i = 0; i < value.length; i++) {
      const found = walk(value[i], `${path}[${i}]`, limits, depth + 1, key);
      if (found) return found;
    }
    return null;
  }
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const found = walk(v, `${path}.${k}`, limits, depth + 1, k);
      if (found) return found;
    }
  }
  return null;
}
