import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GraphQLInt, GraphQLObjectType, GraphQLSchema, GraphQLString, type ExecutionResult } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { AppError } from '../src/errors.js';
import { EventBus, type BusEvent } from '../src/events/bus.js';
import { createLogger } from '../src/logger.js';
import { createMaskError } from '../src/plugins/use-error-codes.js';
import { useSharedEventExecution } from '../src/plugins/use-shared-event-execution.js';

// The plugin hands envelop an already masked stream, so yoga's own masking never sees these results:
// what it would have masked must be masked here, once per event, for every subscriber alike.
describe('shared event execution masks what yoga would have', () => {
  const logger = createLogger('silent');
  const bus = new EventBus(logger);
  let executions = 0;
  const Tick = new GraphQLObjectType<BusEvent>({
    name: 'Tick',
    fields: {
      at: { type: GraphQLInt, resolve: (e) => (executions++, e.at) },
      secret: {
        type: GraphQLInt,
        resolve: () => {
          throw new Error('database password is hunter2');
        },
      },
      expected: {
        type: GraphQLInt,
        resolve: () => {
          throw new AppError('VALIDATION_ERROR', 'not this one', { field: 'expected' });
        },
      },
    },
  });
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLString, resolve: () => 'ok' } } }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: {
        tick: {
          type: Tick,
          args: { session: { type: GraphQLString } },
          subscribe: (_root, { session }: { session: string }) => {
            if (session !== 's') throw new AppError('SESSION_NOT_FOUND', `Session with ID '${session}' not found`, { sessionId: session });
            return bus.subscribe('s', (e) => e);
          },
          resolve: (e: BusEvent) => e,
        },
        // Any other async iterable (not a bus stream) goes through the plugin's own mapping iterator.
        generated: {
          type: Tick,
          subscribe: async function* () {
            yield { at: 1 };
            yield { at: 2 };
          },
          resolve: (e: BusEvent) => e,
        },
      },
    }),
  });
  const maskError = createMaskError(logger);
  const yoga = createYoga({ schema, logging: false, maskedErrors: { maskError }, plugins: [useSharedEventExecution(maskError)] });

  const subscribe = async (query: string, variables: Record<string, unknown> = { s: 's' }) => {
    // yoga's parse, as the server's: its cache hands every subscriber the same document.
    const { subscribe: run, contextFactory, schema: enveloped, parse } = yoga.getEnveloped({});
    return run({ schema: enveloped, document: parse(query), variableValues: variables, contextValue: await contextFactory() }) as Promise<
      AsyncIterableIterator<ExecutionResult> | ExecutionResult
    >;
  };
  const stream = (value: AsyncIterableIterator<ExecutionResult> | ExecutionResult) => {
    assert.ok(Symbol.asyncIterator in value, `a stream, not ${JSON.stringify(value)}`);
    return value as AsyncIterableIterator<ExecutionResult>;
  };
  const publish = (at: number) => bus.publish({ type: 'AUTHENTICATED', sessionId: 's', at });
  const plain = (result: IteratorResult<ExecutionResult>) => JSON.parse(JSON.stringify(result.value));

  it('runs each event once for every subscriber of the same subscription', async () => {
    const query = 'subscription($s: String) { tick(session: $s) { at } }';
    const a = stream(await subscribe(query));
    const b = stream(await subscribe(query));
    const [nextA, nextB] = [a.next(), b.next()];
    publish(7);
    assert.deepEqual(plain(await nextA), { data: { tick: { at: 7 } } });
    assert.deepEqual(plain(await nextB), { data: { tick: { at: 7 } } });
    assert.equal(executions, 1);
    await Promise.all([a.return!(), b.return!()]);
  });

  it('an unexpected error in an event becomes "Unexpected error." with INTERNAL_ERROR, an expected one keeps its code', async () => {
    const s = stream(await subscribe('subscription($s: String) { tick(session: $s) { at secret expected } }'));
    const next = s.next();
    publish(8);
    const result = plain(await next);
    assert.doesNotMatch(JSON.stringify(result), /hunter2/);
    assert.deepEqual(result.data, { tick: { at: 8, secret: null, expected: null } });
    const byField = Object.fromEntries(result.errors.map((e: { path: string[] }) => [e.path.at(-1), e]));
    assert.equal(byField.secret.message, 'Unexpected error.');
    assert.equal(byField.secret.extensions.code, 'INTERNAL_ERROR');
    assert.equal(byField.expected.message, 'not this one');
    assert.deepEqual(byField.expected.extensions, { code: 'VALIDATION_ERROR', details: { field: 'expected' } });
    await s.return!();
  });

  it('a stream from elsewhere is masked the same way', async () => {
    const s = stream(await subscribe('subscription { generated { at secret } }', {}));
    const results = [plain(await s.next()), plain(await s.next())];
    assert.deepEqual(results.map((r) => r.data), [{ generated: { at: 1, secret: null } }, { generated: { at: 2, secret: null } }]);
    assert.deepEqual(results.map((r) => [r.errors[0].message, r.errors[0].extensions.code]), [['Unexpected error.', 'INTERNAL_ERROR'], ['Unexpected error.', 'INTERNAL_ERROR']]);
    assert.equal((await s.next()).done, true);
  });

  it('a subscribe resolver that refuses answers one masked result, with its code', async () => {
    const result = await subscribe('subscription($s: String) { tick(session: $s) { at } }', { s: 'nope' });
    assert.ok(!(Symbol.asyncIterator in result));
    assert.deepEqual(JSON.parse(JSON.stringify((result as ExecutionResult).errors)), [
      {
        message: "Session with ID 'nope' not found",
        path: ['tick'],
        extensions: { code: 'SESSION_NOT_FOUND', details: { sessionId: 'nope' } },
      },
    ]);
  });
});
