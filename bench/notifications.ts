// `npm run bench:notifications`: how fast the webhook delivery worker sends
// notifications to a local receiver, and how far it lags behind a burst of
// orders, on PostgreSQL (a temporary server) with the app in this process.
//
//   npm run bench:notifications                     # 10,000 orders
//   npm run bench:notifications -- --orders 2000 --batch 50
//
//   1. throughput: the orders are written with the worker stopped (their
//      notifications wait in the outbox), then one worker drains it:
//      notifications delivered per second;
//   2. lag under a burst: the same number of orders again, 16 in flight,
//      with the worker running: for each notification, the time from its
//      commit (`created`) to its arrival at the receiver (p50, p99, max), and
//      how long after the last write the last one arrived.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { openDatabase } from '../src/server/db/index.ts';
import { startDeliveryWorker } from '../src/server/services/delivery.ts';
import { createMerchant } from '../src/server/services/merchants.ts';
import { createApp } from '../src/server/yoga.ts';
import { startPostgres } from '../test/server/postgres.ts';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const COFFEE = readFileSync(join(ROOT, 'examples/coffee-chain.loyalty'), 'utf8');
const cli = new Command('bench:notifications')
  .option('--orders <n>', 'orders per measurement', (v) => Number(v), 10_000)
  .option('--batch <n>', 'deliveries the worker claims per poll', (v) => Number(v), 20)
  .option('--members <n>', 'members the orders are spread over', (v) => Number(v), 500)
  .parse();
const { orders: ORDERS, batch: BATCH, members: MEMBERS } = cli.opts<{ orders: number; batch: number; members: number }>();
const IN_FLIGHT = 16;

const pgServer = await startPostgres();
const db = await openDatabase({ databaseUrl: pgServer.url, poolSize: 20 });
const app = createApp(db, { rateLimit: null, graphiql: false, metrics: false, console: false });
const received: { id: string; at: number; created: number }[] = [];
const receiver = createServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString('utf8')));
  req.on('end', () => {
    const n = JSON.parse(body) as { id: string; created: string };
    received.push({ id: n.id, at: Date.now(), created: Date.parse(n.created) });
    res.writeHead(200).end();
  });
});
await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done));
const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;

async function gql(key: string, query: string, variables: Record<string, unknown> = {}) {
  const res = await app.fetch('http://bench/graphql', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
}

/** A merchant with an endpoint for points.earned only (one notification per order) and its members. */
async function merchant(name: string): Promise<string> {
  const m = await createMerchant(db.prisma, name, COFFEE, { sandbox: true });
  await gql(m.apiKey, 'mutation($u: String!) { createWebhookEndpoint(url: $u, types: [POINTS_EARNED]) { id } }', { u: hook });
  for (let i = 0; i < MEMBERS; i++) await gql(m.apiKey, 'mutation($m: ID!) { signup(input: { memberId: $m, at: "2026-02-01T00:00:00Z" }) { __typename } }', { m: `m${i}` });
  return m.apiKey;
}

async function burst(key: string): Promise<number> {
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < ORDERS) {
        const i = next++;
        const at = new Date(Date.parse('2026-03-01T00:00:00Z') + i * 1000).toISOString();
        await gql(key, 'mutation($i: RecordOrderInput!) { recordOrder(input: $i) { __typename } }', {
          i: { memberId: `m${i % MEMBERS}`, orderId: `${key.slice(-6)}-${i}`, at, lines: [{ sku: 'LATTE', category: 'espresso', qty: 1, price: '4.75' }] },
        });
      }
    }),
  );
  return Date.now();
}

async function drained(expected: number): Promise<void> {
  while (received.length < expected) await new Promise((r) => setTimeout(r, 5));
}

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

// 1. Throughput: drain a full outbox.
const a = await merchant('Throughput');
await burst(a);
const queued = await db.prisma.delivery.count({ where: { status: 'pending' } });
let worker = startDeliveryWorker(db.prisma, { pollIntervalMs: 5, batchSize: BATCH });
const t0 = performance.now();
await drained(queued);
const drainSeconds = (performance.now() - t0) / 1000;
await worker.stop();

// 2. Lag under a burst, the worker running.
received.length = 0;
const b = await merchant('Burst');
worker = startDeliveryWorker(db.prisma, { pollIntervalMs: 50, batchSize: BATCH });
// The signup bonuses first: the burst starts with an empty outbox.
await drained(MEMBERS);
received.length = 0;
const burstStart = Date.now();
const lastWrite = await burst(b);
await drained(ORDERS);
const lastArrival = Math.max(...received.map((r) => r.at));
await worker.stop();
const lags = received.map((r) => r.at - r.created).sort((x, y) => x - y);

console.log(`\n${ORDERS} orders over ${MEMBERS} members (one points.earned each), PostgreSQL, receiver on localhost, batch ${BATCH}\n`);
console.log('| measurement | result |');
console.log('|---|---|');
console.log(`| throughput: drain ${queued} queued deliveries | ${Math.round(queued / drainSeconds)} notifications/s (${drainSeconds.toFixed(1)} s) |`);
console.log(`| burst: orders written | ${Math.round(ORDERS / ((lastWrite - burstStart) / 1000))} orders/s (${((lastWrite - burstStart) / 1000).toFixed(1)} s, ${IN_FLIGHT} in flight) |`);
console.log(`| burst: lag commit → receiver | p50 ${pct(lags, 0.5)} ms, p99 ${pct(lags, 0.99)} ms, max ${lags.at(-1)} ms |`);
console.log(`| burst: last delivery after last write | ${lastArrival - lastWrite} ms |`);

receiver.closeAllConnections();
await new Promise((done) => receiver.close(done));
await db.close();
await pgServer.stop();
