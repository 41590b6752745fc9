// Webhook delivery across real server processes on one PostgreSQL: a process
// killed with SIGKILL after its writes committed and before it delivered
// them (its worker off) leaves nothing undelivered once a process runs again;
// two processes whose workers share the outbox deliver every notification
// exactly once (the receiver always answers 200, so there is no retry to
// allow for), in order per member.
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, describe, expect, test } from 'vitest';
import { startPostgres } from './postgres.ts';
import { ROOT, startServer, type Running } from './process.ts';

const COFFEE_FILE = join(ROOT, 'examples/coffee-chain.loyalty');

async function post(url: string, key: string, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
  if (body.errors) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
  return body.data!;
}

/** A receiver that answers 200 and keeps what it got, in arrival order. */
async function startReceiver() {
  const got: { id: string; member: string; attempt: number }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const n = JSON.parse(body) as { id: string; member: string };
      got.push({ id: n.id, member: n.member, attempt: Number(req.headers['loyalty-delivery-attempt']) });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, got, close: () => new Promise((done) => server.close(done)) };
}

function createMerchant(databaseUrl: string, name: string): string {
  const made = spawnSync(process.execPath, ['--import', 'tsx', 'src/server/cli/create-merchant.ts', '--name', name, '--program', COFFEE_FILE], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl },
    encoding: 'utf8',
  });
  expect(made.status, made.stderr).toBe(0);
  return /^API key: (\S+)$/m.exec(made.stdout)![1]!;
}

const SIGNUP = 'mutation($m: ID!) { r: signup(input: { memberId: $m }) { __typename } }';
const ORDER = 'mutation($i: RecordOrderInput!) { r: recordOrder(input: $i) { __typename } }';
const order = (member: string, id: string) => ({ i: { memberId: member, orderId: id, lines: [{ sku: 'LATTE-12', category: 'espresso', qty: 2, price: '4.75' }] } });

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('webhook delivery across server processes on one PostgreSQL', { timeout: 300_000 }, () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const f of cleanup.reverse()) await f();
  });

  test('SIGKILL between commit and delivery: delivered after the restart, once each; two processes: each delivered once, in order per member', async () => {
    const pgServer = await startPostgres();
    cleanup.push(() => pgServer.stop());
    const client = new pg.Client({ connectionString: pgServer.url });
    await client.connect();
    cleanup.push(() => client.end());
    const receiver = await startReceiver();
    cleanup.push(() => receiver.close());
    const env = { DATABASE_URL: pgServer.url, LOYALTY_RATE_LIMIT: '0', LOYALTY_DEMO: '0' };

    // 1. A process without a worker commits writes, then dies with SIGKILL.
    const first = await startServer({ ...env, LOYALTY_WEBHOOK_POLL_MS: '0' });
    const key = createMerchant(pgServer.url, 'Killed');
    await post(first.url, key, 'mutation($u: String!) { createWebhookEndpoint(url: $u) { id } }', { u: receiver.url });
    for (let m = 0; m < 8; m++) {
      await post(first.url, key, SIGNUP, { m: `k${m}` });
      for (let o = 0; o < 2; o++) await post(first.url, key, ORDER, order(`k${m}`, `k${m}-${o}`));
    }
    const exited = new Promise((done) => first.child.once('exit', done));
    first.child.kill('SIGKILL');
    await exited;
    const committed = await client.query<{ id: string; member: string }>(`SELECT 'ntf_' || id AS id, member FROM notifications ORDER BY notifications.id`);
    expect(committed.rows.length).toBeGreaterThanOrEqual(8 * 3);
    expect(receiver.got).toEqual([]);

    // 2. Two processes with workers: the killed one's deliveries, and new writes sent to both.
    const servers: Running[] = await Promise.all([startServer({ ...env, LOYALTY_WEBHOOK_POLL_MS: '20' }), startServer({ ...env, LOYALTY_WEBHOOK_POLL_MS: '20' })]);
    for (const s of servers) cleanup.push(() => s.stop());
    await Promise.all(
      Array.from({ length: 12 }, async (_, m) => {
        const member = `t${m}`;
        await post(servers[m % 2]!.url, key, SIGNUP, { m: member });
        for (let o = 0; o < 3; o++) await post(servers[(m + o) % 2]!.url, key, ORDER, order(member, `${member}-${o}`));
      }),
    );
    const all = (await client.query<{ id: string; member: string }>(`SELECT 'ntf_' || id AS id, member FROM notifications ORDER BY notifications.id`)).rows;
    expect(all.length).toBeGreaterThanOrEqual(committed.rows.length + 12 * 4);
    await waitFor('every delivery', () => receiver.got.length >= all.length);
    // Both workers have had time to send a duplicate, if they were going to.
    await sleep(500);
    const counts = new Map<string, number>();
    for (const r of receiver.got) counts.set(r.id, (counts.get(r.id) ?? 0) + 1);
    expect([...counts].filter(([, n]) => n !== 1)).toEqual([]);
    expect([...counts.keys()].sort()).toEqual(all.map((n) => n.id).sort());
    expect(receiver.got.every((r) => r.attempt === 1)).toBe(true);
    for (const member of new Set(all.map((n) => n.member))) {
      expect(receiver.got.filter((r) => r.member === member).map((r) => r.id), member).toEqual(all.filter((n) => n.member === member).map((n) => n.id));
    }
    // Each delivery was claimed once (a claim is an attempt): no worker sent one the other had.
    const statuses = await client.query<{ status: string; attempts: number; n: string }>('SELECT status, attempts, count(*) AS n FROM deliveries GROUP BY status, attempts');
    expect(statuses.rows).toEqual([{ status: 'delivered', attempts: 1, n: String(all.length) }]);
  });
});
