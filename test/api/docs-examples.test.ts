// Every request the README and docs/api.md show runs as written, in the order
// a reader meets them, against a fresh embedded database with the demo
// merchant `npm start` creates: no GraphQL error and no refusal (`message`
// only appears in this documentation's `... on Error { message }` branches).
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { parse, type OperationDefinitionNode } from 'graphql';
import { ensureDemoMerchant } from '../../src/server/services/merchants.ts';
import { example, rawRequest, startTestServer, type TestServer } from './client.ts';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/** The JSON bodies of the `curl ... -d '...'` commands in a markdown file. */
function curlBodies(markdown: string): unknown[] {
  return [...markdown.matchAll(/^\s*-d '(.*)'\s*$/gm)].map((m) => JSON.parse(m[1]!) as unknown);
}

/** Each operation of each ```graphql block, as its own document text. */
function graphqlOperations(markdown: string): string[] {
  const out: string[] = [];
  for (const block of markdown.matchAll(/^```graphql\n([\s\S]*?)^```/gm)) {
    const doc = parse(block[1]!);
    for (const def of doc.definitions) {
      const loc = (def as OperationDefinitionNode).loc!;
      out.push(block[1]!.slice(loc.start, loc.end));
    }
  }
  return out;
}

/** Where the docs show a value the reader supplies, what this test supplies. */
function variablesFor(operation: string): Record<string, unknown> {
  if (/\$events\b/.test(operation)) {
    const events = [
      { type: 'signup', at: '2026-03-01T09:00:00Z', member: 'ava' },
      { type: 'order', at: '2026-03-02T15:00:00Z', member: 'ava', id: 'A-1', lines: [{ sku: 'LATTE-12', category: 'espresso', qty: 2, price: '4.75' }] },
    ];
    return { source: example('coffee-chain.loyalty'), events };
  }
  // docs/api.md previews the coffee program with a doubled base rate.
  if (/previewProgram/.test(operation)) return { source: example('coffee-chain.loyalty').replace('base 10 points per 1 USD', 'base 20 points per 1 USD') };
  if (/\$source\b/.test(operation)) return { source: example('coffee-chain.loyalty') };
  return {};
}

/** Paths of every `message` in a response's data: a refusal or an error result. */
function refusals(value: unknown, path = 'data'): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => refusals(v, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => (k === 'message' ? [`${path}.message: ${String(v)}`] : refusals(v, `${path}.${k}`)));
  }
  return [];
}

describe('documented examples run as written on a fresh server', { timeout: 120_000 }, () => {
  let server: TestServer | null = null;
  let key: string;
  // Each document is read on a database of its own, as a newcomer would start.
  beforeEach(async () => {
    server = await startTestServer('pglite');
    key = (await ensureDemoMerchant(server.db.prisma))!.apiKey;
  }, 120_000);
  afterEach(async () => {
    await server?.stop();
    server = null;
  });

  async function run(body: { query: string; variables?: Record<string, unknown> }) {
    const res = await rawRequest(server!.app, body, key);
    expect({ query: body.query, errors: res.errors ?? [], refusals: refusals(res.data) }).toEqual({ query: body.query, errors: [], refusals: [] });
    return res;
  }

  test('the README', async () => {
    const bodies = curlBodies(read('README.md'));
    expect(bodies.length).toBeGreaterThanOrEqual(2);
    for (const body of bodies) await run(body as { query: string });
  });

  test('docs/api.md', async () => {
    const doc = read('docs/api.md');
    for (const body of curlBodies(doc)) await run(body as { query: string });
    const operations = graphqlOperations(doc);
    expect(operations.length).toBeGreaterThanOrEqual(10);
    let created: string | null = null;
    for (const op of operations) {
      // The docs revoke "the key you created" by a placeholder prefix.
      const query = created ? op.replace('lk_AbCdEfG', created) : op;
      const res = await run({ query, variables: variablesFor(op) });
      const made = (res.data as { createApiKey?: { apiKey: { prefix: string } } } | undefined)?.createApiKey;
      if (made) created = made.apiKey.prefix;
    }
  });
});
