// Three server processes on one PostgreSQL, started together on an empty
// database (the migrations run once, under an advisory lock), take 2,000
// concurrent writes over 50 shared members — duplicates, refunds and
// redemptions included — sent to all three. No update is lost (each balance
// is its ledger's sum), every order is recorded once, the log's audit finds
// nothing, and `loyalty replay` of the export gives the stored members.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, test } from 'vitest';
import { compile } from '../../dsl/index.ts';
import { Replay } from '../../src/engine/index.ts';
import { startPostgres } from './postgres.ts';
import { ROOT, startServer, type Running } from './process.ts';

const COFFEE_FILE = join(ROOT, 'examples/coffee-chain.loyalty');
const MEMBERS = 50;
const WRITES = 2000;
const IN_FLIGHT = 24;

async function post(url: string, key: string, query: string, variables: Record<string, unknown>) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ query, variables }) });
  return (await res.json()) as { data?: Record<string, { __typename: string; replayed?: boolean } | null> | null; errors?: { extensions?: { code?: string } }[] };
}

/** A small deterministic generator, so a failure can be rerun. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe('three processes on one PostgreSQL', { timeout: 300_000 }, () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const f of cleanup.reverse()) await f();
  });

  test('2,000 concurrent writes over 50 shared members: nothing lost, nothing twice, the log gives what is stored', async () => {
    const pgServer = await startPostgres();
    cleanup.push(() => pgServer.stop());
    const env = { DATABASE_URL: pgServer.url, LOYALTY_RATE_LIMIT: '0' };
    const servers: Running[] = await Promise.all([startServer(env), startServer(env), startServer(env)]);
    for (const s of servers) cleanup.push(() => s.stop());

    const client = new pg.Client({ connectionString: pgServer.url });
    await client.connect();
    cleanup.push(() => client.end());
    const migrations = readdirSync(join(ROOT, 'prisma/migrations'), { withFileTypes: true }).filter((d) => d.isDirectory()).length;
    const applied = await client.query<{ n: string }>('SELECT count(*) AS n FROM _prisma_migrations');
    expect(Number(applied.rows[0]!.n)).toBe(migrations);

    const made = spawnSync(process.execPath, ['--import', 'tsx', 'src/server/cli/create-merchant.ts', '--name', 'Three', '--program', COFFEE_FILE], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: pgServer.url },
      encoding: 'utf8',
    });
    expect(made.status, made.stderr).toBe(0);
    const key = /^API key: (\S+)$/m.exec(made.stdout)![1]!;

    const members = Array.from({ length: MEMBERS }, (_, i) => `s${i}`);
    // Signups first, each sent to all three processes at once: one signs up, the others replay it.
    const signups = await Promise.all(
      members.flatMap((memberId) => servers.map((s) => post(s.url, key, 'mutation($m: ID!) { r: signup(input: { memberId: $m }) { __typename ... on WritePayload { replayed } } }', { m: memberId }))),
    );
    expect(signups.filter((r) => r.data?.r?.__typename === 'MemberPayload' && r.data.r.replayed === false)).toHaveLength(MEMBERS);

    const rnd = random(42);
    const pick = <T,>(xs: T[]) => xs[Math.floor(rnd() * xs.length)]!;
    const orders: { member: string; id: string }[] = [];
    type Job = { query: string; variables: Record<string, unknown> };
    const jobs: Job[] = [];
    for (let i = 0; jobs.length < WRITES - MEMBERS * 3; i++) {
      const member = pick(members);
      const kind = rnd();
      if (kind < 0.55 || orders.length === 0) {
        const id = `O-${i}`;
        orders.push({ member, id });
        const order = { query: 'mutation($i: RecordOrderInput!) { r: recordOrder(input: $i) { __typename } }', variables: { i: { memberId: member, orderId: id, lines: [{ sku: 'LATTE-12', category: 'espresso', qty: 1 + (i % 4), price: '4.75' }] } } };
        jobs.push(order);
        if (rnd() < 0.2) jobs.push(order); // a duplicate, to another process
      } else if (kind < 0.75) {
        const o = pick(orders);
        jobs.push({ query: 'mutation($i: RefundOrderInput!) { r: refundOrder(input: $i) { __typename } }', variables: { i: { memberId: o.member, orderId: o.id, refundId: `R-${i}`, lines: [{ sku: 'LATTE-12', qty: 1 }] } } });
      } else {
        const redeem = { query: 'mutation($i: RedeemPointsInput!) { r: redeemPoints(input: $i) { __typename } }', variables: { i: { memberId: member, points: 200, idempotencyKey: `P-${i}` } } };
        jobs.push(redeem);
        if (rnd() < 0.2) jobs.push(redeem);
      }
    }
    let next = 0;
    const outcomes: string[] = [];
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async (_, lane) => {
        while (next < jobs.length) {
          const n = next++;
          const job = jobs[n]!;
          const res = await post(servers[(n + lane) % servers.length]!.url, key, job.query, job.variables);
          outcomes.push(res.errors ? `error:${res.errors[0]?.extensions?.code}` : res.data!.r!.__typename);
        }
      }),
    );
    // Only the answers a client expects: written, refused by the program.
    expect(new Set(outcomes)).toEqual(new Set(outcomes.filter((o) => ['RecordOrderPayload', 'MemberPayload', 'EventRefused'].includes(o))));

    const mismatched = await client.query(`
      SELECT m.external_id FROM members m
        LEFT JOIN (SELECT member_id, SUM(points) AS total FROM ledger_entries GROUP BY member_id) l ON l.member_id = m.id
       WHERE m.balance <> COALESCE(l.total, 0)`);
    expect(mismatched.rows).toEqual([]);
    const orderRows = await client.query<{ n: string }>('SELECT count(*) AS n FROM orders');
    expect(Number(orderRows.rows[0]!.n)).toBe(orders.length);

    const audit = await post(servers[0]!.url, key, '{ r: verifyLedger { ok } }', {});
    expect(audit.data?.r).toEqual({ ok: true });

    const exported = await (await fetch(new URL('/events.jsonl', servers[1]!.url), { headers: { authorization: `Bearer ${key}` } })).text();
    const replay = new Replay(compile(readFileSync(COFFEE_FILE, 'utf8'), COFFEE_FILE).program!);
    exported.split('\n').forEach((l, i) => replay.pushLine(l, i + 1));
    const stored = await client.query<{ external_id: string; balance: string }>('SELECT external_id, balance FROM members');
    expect(Object.fromEntries(stored.rows.map((r) => [r.external_id, Number(r.balance)]))).toEqual(
      Object.fromEntries(Object.entries(replay.result().members).map(([id, m]) => [id, m.balance])),
    );
  });
});
