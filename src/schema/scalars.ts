import { Kind } from 'graphql';
import { validationError } from '../errors.js';
import { builder } from './builder.js';

// Lists serialize the same timestamps (createdAt, lastActivity) on every read; formatting each anew was
// ~6% of a `sessions` query's CPU in the bench, so recent ones are kept (bounded, cleared when full).
const isoCache = new Map<number, string>();
function isoString(value: Date | number | string): string {
  const time = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : new Date(value).getTime();
  let iso = isoCache.get(time);
  if (iso === undefined) {
    iso = new Date(time).toISOString();
    if (isoCache.size >= 50_000) isoCache.clear();
    isoCache.set(time, iso);
  }
  return iso;
}

builder.scalarType('DateTime', {
  description: 'An ISO-8601 date and time in UTC, e.g. 2025-07-20T16:03:18.000Z',
  serialize: (value) => isoString(value as Date | number | string),
  parseValue: (value) => {
    const date = new Date(value as string);
    if (typeof value !== 'string' || Number.isNaN(date.getTime())) throw validationError('DateTime must be an ISO-8601 string');
    return date;
  },
});

builder.scalarType('JSON', {
  description: 'Any JSON value',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: function parse(ast): unknown {
    switch (ast.kind) {
      case Kind.STRING:
      case Kind.BOOLEAN:
        return ast.value;
      case Kind.INT:
      case Kind.FLOAT:
        return Number(ast.value);
      case Kind.NULL:
        return null;
      case Kind.LIST:
        return ast.values.map((v) => parse(v));
      case Kind.OBJECT:
        return Object.fromEntries(ast.fields.map((f) => [f.name.value, parse(f.value)]));
      default:
        return undefined;
    }
  },
});
