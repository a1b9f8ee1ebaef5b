import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import { declaredPolicies, policy, ruleFor, session } from '../src/auth/access-policy.js';
import { schema } from '../src/schema/index.js';

// Access rules and rate-limit buckets live in each root field's extensions; these are the checks that keep
// a declaration from naming something the guard and the limiter never read.

const withField = (where: 'root' | 'nested', extensions: Record<string, unknown>) => {
  const Nested = new GraphQLObjectType({ name: 'Nested', fields: { value: { type: GraphQLString, ...(where === 'nested' ? { extensions } : {}) } } });
  return new GraphQLSchema({
    query: new GraphQLObjectType({
      name: 'Query',
      fields: { nested: { type: Nested }, plain: { type: GraphQLString, ...(where === 'root' ? { extensions } : {}) } },
    }),
  });
};

describe('field policies', () => {
  it('the buckets are declared on the fields that exist: createSession counts as session creation, the sends as messaging', () => {
    const buckets = declaredPolicies(schema)
      .filter((p) => p.rateLimit)
      .map((p) => `${p.typeName}.${p.fieldName}: ${p.rateLimit}`)
      .sort();
    assert.deepEqual(buckets, [
      'Mutation.createSession: sessionCreate',
      'Mutation.deleteMessage: messaging',
      'Mutation.editMessage: messaging',
      'Mutation.forwardMessage: messaging',
      'Mutation.reactToMessage: messaging',
      'Mutation.sendAudio: messaging',
      'Mutation.sendContactCard: messaging',
      'Mutation.sendFile: messaging',
      'Mutation.sendImage: messaging',
      'Mutation.sendLocation: messaging',
      'Mutation.sendPoll: messaging',
      'Mutation.sendSticker: messaging',
      'Mutation.sendText: messaging',
      'Mutation.sendVideo: messaging',
      'Mutation.sendVoice: messaging',
      'Mutation.setPresence: messaging',
      'Mutation.votePoll: messaging',
      'Query.checkNumber: messaging',
    ]);
  });

  it('a rule or bucket on a field the guard and limiter do not read (not a root field) fails, and so does an unknown one', () => {
    assert.throws(() => declaredPolicies(withField('nested', policy(session('read')))), /Nested\.value .*only root fields/);
    assert.throws(() => declaredPolicies(withField('nested', { rateLimit: 'messaging' })), /Nested\.value/);
    assert.throws(() => declaredPolicies(withField('root', { rateLimit: 'sendLocation' })), /unknown rate-limit bucket 'sendLocation'/);
    assert.throws(() => declaredPolicies(withField('root', { access: 'READ' })), /unknown access rule/);
    assert.deepEqual(declaredPolicies(withField('root', policy(session('read'), 'messaging'))), [
      { typeName: 'Query', fieldName: 'plain', access: { kind: 'session', action: 'read', sessionIdIn: 'args' }, rateLimit: 'messaging' },
    ]);
  });

  it('a root field without a rule, or a field that does not exist, is admin-only', () => {
    assert.deepEqual(ruleFor(withField('root', {}), 'Query', 'plain'), { kind: 'admin' });
    assert.deepEqual(ruleFor(schema, 'Mutation', 'sendCarrierPigeon'), { kind: 'admin' });
    assert.deepEqual(ruleFor(schema, 'Mutation', 'sendText'), { kind: 'session', action: 'send', sessionIdIn: 'input' });
  });
});
