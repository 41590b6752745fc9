// jitExecution (src/server/graphql/jit.ts): operations run compiled, and
// every answer is the one graphql-js's executor gives: the same data and
// errors for valid requests, resolver errors and null bubbling, and the
// normal executor's own coercion errors for variables graphql-jit refuses.
import { GraphQLError } from 'graphql';
import { createSchema, createYoga, type Plugin } from 'graphql-yoga';
import { describe, expect, test } from 'vitest';
import { jitExecution } from '../../src/server/graphql/jit.ts';

const schema = createSchema({
  typeDefs: /* GraphQL */ `
    input LineInput {
      sku: String!
      qty: Int!
    }
    type Line {
      sku: String!
      qty: Int!
    }
    type Order {
      id: ID!
      lines: [Line!]!
      broken: String!
      coded: String
      note: String
    }
    type Query {
      order(id: ID!): Order
    }
    type Mutation {
      record(id: ID!, lines: [LineInput!]!): Order!
    }
  `,
  resolvers: {
    Query: {
      order: (_: unknown, { id }: { id: string }) => (id === 'none' ? null : { id, lines: id === 'holes' ? [{ sku: 'A', qty: 1 }, { sku: null, qty: 2 }] : [{ sku: 'A', qty: 1 }] }),
    },
    Mutation: { record: (_: unknown, args: { id: string; lines: unknown[] }) => ({ id: args.id, lines: args.lines }) },
    Order: {
      broken: () => {
        throw new Error('no such thing');
      },
      coded: () => {
        throw new GraphQLError('not allowed', { extensions: { code: 'FORBIDDEN' } });
      },
      note: async () => 'async',
    },
  },
});

/** Counts the requests that reach graphql-js's executor (it sets the function the jit falls back to). */
function countingExecutor(counter: { calls: number }): Plugin {
  return {
    onExecute({ executeFn, setExecuteFn }) {
      setExecuteFn((args) => {
        counter.calls++;
        return executeFn(args);
      });
    },
  };
}

function apps() {
  const counter = { calls: 0 };
  const plain = createYoga({ schema, maskedErrors: false, logging: false });
  const jit = createYoga({ schema, maskedErrors: false, logging: false, plugins: [countingExecutor(counter), jitExecution()] });
  return { plain, jit, counter };
}

async function ask(app: ReturnType<typeof createYoga>, body: unknown) {
  const res = await app.fetch('http://localhost/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

const valid = [
  { query: 'query($id: ID!) { order(id: $id) { id lines { sku qty } note } }', variables: { id: 'o1' } },
  { query: '{ order(id: "none") { id } }' },
  { query: 'mutation($l: [LineInput!]!) { record(id: "r", lines: $l) { id lines { sku qty } } }', variables: { l: [{ sku: 'X', qty: 2 }] } },
  // A resolver's error, and null bubbling up to the nullable order.
  { query: '{ order(id: "o2") { id broken } }' },
  { query: '{\n  order(id: "o3") {\n    id\n    coded\n  }\n}' },
  { query: '{ order(id: "holes") { id lines { sku qty } } }' },
  { query: 'query A { order(id: "a") { id } } query B { order(id: "b") { note } }', operationName: 'B' },
];

const badVariables = [
  { query: 'mutation($l: [LineInput!]!) { record(id: "r", lines: $l) { id } }', variables: { l: [{ sku: 'X' }] } },
  { query: 'mutation($l: [LineInput!]!) { record(id: "r", lines: $l) { id } }', variables: { l: [{ sku: 'X', qty: 1, extra: true }] } },
  { query: 'mutation($l: [LineInput!]!) { record(id: "r", lines: $l) { id } }', variables: { l: [{ sku: 'X', qty: 2 ** 40 }] } },
  { query: 'query($id: ID!) { order(id: $id) { id } }', variables: {} },
  { query: 'query($id: ID!) { order(id: $id) { id } }', variables: { id: { not: 'an id' } } },
];

describe('jitExecution', () => {
  test('valid requests run compiled and answer as graphql-js does', async () => {
    const { plain, jit, counter } = apps();
    for (const request of valid) {
      const [a, b] = [await ask(plain, request), await ask(jit, request)];
      expect(b, JSON.stringify(request)).toEqual(a);
    }
    // Twice each: compiled once, then reused; graphql-js's executor never ran.
    for (const request of valid) expect(await ask(jit, request)).toEqual(await ask(plain, request));
    expect(counter.calls).toBe(0);
  });

  test("variables that fail coercion get graphql-js's errors, from its executor", async () => {
    const { plain, jit, counter } = apps();
    for (const request of badVariables) {
      const [a, b] = [await ask(plain, request), await ask(jit, request)];
      expect(a.body.errors?.length, JSON.stringify(request)).toBeGreaterThan(0);
      expect(b, JSON.stringify(request)).toEqual(a);
    }
    expect(counter.calls).toBe(badVariables.length);
  });
});
