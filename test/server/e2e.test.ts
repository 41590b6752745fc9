// End to end: the real server process (`npm start`'s command) over HTTP, on
// the embedded database (first start creates the demo merchant; a restart
// keeps the data) and on a PostgreSQL given by DATABASE_URL.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, test } from 'vitest';
import { startPostgres } from './postgres.ts';
import { ROOT, startServer } from './process.ts';

async function gql(url: string, key: string, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { data?: Record<string, any>; errors?: unknown[] };
}

const SIGNUP_AND_ORDER = `mutation($at: DateTime!) {
  signup(input: { memberId: "e2e", at: $at }) { __typename ... on MemberPayload { points } }
  recordOrder(input: { memberId: "e2e", orderId: "E2E-1", at: $at,
    lines: [{ sku: "LATTE-12", category: "espresso", qty: 2, price: "4.75" }] }) {
    __typename ... on RecordOrderPayload { points member { balance tier { name } } }
  }
}`;

describe('the server process over HTTP', { timeout: 120_000 }, () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const f of cleanup.reverse()) await f();
  });

  test('embedded: first start creates the demo merchant and prints its key; a restart keeps the data', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'loyalty-e2e-'));
    cleanup.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const first = await startServer({ LOYALTY_DATA_DIR: dataDir });
    cleanup.push(() => first.stop());
    expect(first.apiKey, first.output()).toMatch(/^lk_/);
    const base = new URL(first.url);
    expect(base.pathname).toBe('/graphql');

    const health = await fetch(new URL('/health', base));
    expect(health.status).toBe(200);
    const graphiql = await fetch(first.url, { headers: { accept: 'text/html' } });
    expect(await graphiql.text()).toContain('GraphiQL');

    const program = await gql(first.url, first.apiKey!, '{ merchant { name } program { name version } }');
    expect(program.data).toEqual({ merchant: { name: 'Demo: Bean & Leaf' }, program: { name: 'Bean & Leaf Rewards', version: 1 } });
    const unauthenticated = await (await fetch(first.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ merchant { id } }"}' })).json();
    expect(unauthenticated.errors[0].extensions.code).toBe('UNAUTHENTICATED');

    const written = await gql(first.url, first.apiKey!, SIGNUP_AND_ORDER, { at: '2026-03-02T10:00:00Z' });
    expect(written.errors).toBeUndefined();
    const balance = written.data!.recordOrder.member.balance as number;
    expect(balance).toBeGreaterThan(100);
    expect(await first.stop()).toBe(0);

    const second = await startServer({ LOYALTY_DATA_DIR: dataDir });
    cleanup.push(() => second.stop());
    expect(second.apiKey).toBeNull(); // the demo exists: no new merchant, no new key
    const member = await gql(second.url, first.apiKey!, '{ member(id: "e2e") { balance ledger(first: 1) { edges { node { rule } } } } }');
    expect(member.data!.member.balance).toBe(balance);
    expect(await second.stop()).toBe(0);
  });

  test('DATABASE_URL: the same start on PostgreSQL, with advanceTime on a schedule', async () => {
    const pgServer = await startPostgres();
    cleanup.push(() => pgServer.stop());
    const server = await startServer({ DATABASE_URL: pgServer.url, LOYALTY_ADVANCE_INTERVAL_MS: '200' });
    cleanup.push(() => server.stop());
    expect(server.output()).toContain('Database: DATABASE_URL');
    // A real deployment gets no demo merchant: merchants are created on purpose.
    expect(server.apiKey).toBeNull();
    const createMerchant = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'src/server/cli/create-merchant.ts', ...args], {
        cwd: ROOT,
        env: { ...process.env, DATABASE_URL: pgServer.url },
        encoding: 'utf8',
      });
    const coffee = createMerchant('--name', 'Bean & Leaf', '--program', 'examples/coffee-chain.loyalty');
    expect(coffee.status, coffee.stderr).toBe(0);
    server.apiKey = /^API key: (\S+)$/m.exec(coffee.stdout)![1]!;
    const written = await gql(server.url, server.apiKey!, SIGNUP_AND_ORDER, { at: '2026-03-02T10:00:00Z' });
    expect(written.errors).toBeUndefined();
    expect(written.data!.signup).toEqual({ __typename: 'MemberPayload', points: 100 });

    // A member whose birthday bonus fell due long ago: the schedule writes it without any request.
    const old = await gql(server.url, server.apiKey!, 'mutation { signup(input: { memberId: "old", at: "2025-01-01T12:00:00Z", birthday: "1990-06-01" }) { __typename } }');
    expect(old.data!.signup.__typename).toBe('MemberPayload');
    const ledgerRules = async () =>
      ((await gql(server.url, server.apiKey!, '{ member(id: "old") { ledger(first: 50) { edges { node { rule kind } } } } }')).data!.member.ledger.edges as { node: { rule: string | null } }[]).map(
        (e) => e.node.rule,
      );
    const deadline = Date.now() + 20_000;
    while (!(await ledgerRules()).includes('birthday') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(await ledgerRules()).toContain('birthday');

    // `npm run merchant:create` against the same database: a new tenant with its own key.
    const cli = createMerchant('--name', 'Harvest Lane', '--program', 'examples/grocer.loyalty');
    expect(cli.status, cli.stderr).toBe(0);
    const key = /^API key: (\S+)$/m.exec(cli.stdout)![1]!;
    const grocer = await gql(server.url, key, '{ merchant { name } program { name currency } members(first: 5) { edges { node { id } } } }');
    expect(grocer.data).toEqual({
      merchant: { name: 'Harvest Lane' },
      program: { name: 'Harvest Lane Rewards', currency: 'AUD' },
      members: { edges: [] },
    });
    const bad = createMerchant('--name', 'Broken', '--program', 'package.json');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('program.loyalty:1:');
    const names = await gql(server.url, key, '{ merchant { name } }');
    expect(names.data!.merchant.name).toBe('Harvest Lane');
    const pgClient = new pg.Client({ connectionString: pgServer.url });
    await pgClient.connect();
    const { rows } = await pgClient.query("SELECT count(*)::int AS n FROM merchants WHERE name = 'Broken'");
    await pgClient.end();
    expect(rows[0].n).toBe(0); // nothing is created for a program that does not compile
    expect(await server.stop()).toBe(0);
  });
});
