// Nothing lost: the real server process takes a stream of writes for many
// members, is killed with SIGKILL mid-stream, restarts, and the client
// resends everything with the same keys (as after a timeout). The result is
// exactly `loyalty replay` of the intended stream, and the log's audit
// (verifyLedger) finds nothing. On the embedded database and on PostgreSQL.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { compile } from '../../dsl/index.ts';
import { Replay } from '../../src/engine/index.ts';
import { startPostgres } from './postgres.ts';
import { ROOT, startServer, type Running } from './process.ts';

const COFFEE_FILE = join(ROOT, 'examples/coffee-chain.loyalty');
const MEMBERS = 16;
const ORDERS = 6;

interface Write {
  member: string;
  query: string;
  variables: Record<string, unknown>;
  /** The replay.md line the write means. */
  line: Record<string, unknown>;
}

/** Per member: signup, orders, a refund and a redemption, every one with its key; times ascending. */
function intended(): Write[][] {
  const start = Date.parse('2026-03-01T09:00:00Z');
  const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
  return Array.from({ length: MEMBERS }, (_, m) => {
    const member = `m${m}`;
    const at = (k: number) => iso(start + (k * MEMBERS + m) * 60_000);
    const writes: Write[] = [
      {
        member,
        query: 'mutation($i: SignupInput!) { r: signup(input: $i) { __typename } }',
        variables: { i: { memberId: member, at: at(0) } },
        line: { type: 'signup', at: at(0), member },
      },
    ];
    for (let k = 1; k <= ORDERS; k++) {
      const lines = [{ sku: 'LATTE-12', category: 'espresso', qty: 1 + (k % 3), price: '4.75' }, { sku: 'WB-ETHIOPIA-12OZ', category: 'whole-beans', qty: 1, price: '16.00' }];
      writes.push({
        member,
        query: 'mutation($i: RecordOrderInput!) { r: recordOrder(input: $i) { __typename } }',
        variables: { i: { memberId: member, orderId: `${member}-o${k}`, lines, at: at(k) } },
        line: { type: 'order', at: at(k), member, id: `${member}-o${k}`, lines },
      });
    }
    writes.push({
      member,
      query: 'mutation($i: RefundOrderInput!) { r: refundOrder(input: $i) { __typename } }',
      variables: { i: { memberId: member, orderId: `${member}-o1`, refundId: `${member}-rf`, lines: [{ sku: 'WB-ETHIOPIA-12OZ', qty: 1 }], at: at(ORDERS + 1) } },
      line: { type: 'refund', at: at(ORDERS + 1), member, order: `${member}-o1`, lines: [{ sku: 'WB-ETHIOPIA-12OZ', qty: 1 }] },
    });
    writes.push({
      member,
      query: 'mutation($i: RedeemPointsInput!) { r: redeemPoints(input: $i) { __typename } }',
      variables: { i: { memberId: member, points: 200, idempotencyKey: `${member}-redeem`, at: at(ORDERS + 2) } },
      line: { type: 'redeem', at: at(ORDERS + 2), member, points: 200 },
    });
    return writes;
  });
}

async function send(url: string, key: string, w: Write): Promise<boolean> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query: w.query, variables: w.variables }),
    });
    const body = (await res.json()) as { data?: { r?: { __typename: string } }; errors?: unknown[] };
    if (body.errors) throw new Error(`write failed: ${JSON.stringify(body.errors)}`);
    return true;
  } catch (error) {
    // The server died under us: the write may or may not have committed.
    if (error instanceof Error && error.message.startsWith('write failed')) throw error;
    return false;
  }
}

/** Sends each member's writes in order, members in parallel; stops a member at its first connection failure. */
async function stream(url: string, key: string, members: Write[][], onWrite: () => void): Promise<void> {
  await Promise.all(
    members.map(async (writes) => {
      for (const w of writes) {
        if (!(await send(url, key, w))) return;
        onWrite();
      }
    }),
  );
}

async function gql(url: string, key: string, query: string): Promise<Record<string, any>> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ query }) });
  const body = (await res.json()) as { data: Record<string, any>; errors?: unknown[] };
  expect(body.errors).toBeUndefined();
  return body.data;
}

describe('nothing lost when the server is killed mid-stream', { timeout: 240_000 }, () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const f of cleanup.reverse()) await f();
  });

  const backends: [string, () => Promise<{ env: Record<string, string>; key: (s: Running) => Promise<string> }>][] = [
    [
      'embedded',
      async () => {
        const dir = mkdtempSync(join(tmpdir(), 'loyalty-kill-'));
        cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
        return { env: { LOYALTY_DATA_DIR: dir, LOYALTY_RATE_LIMIT: '0' }, key: async (s) => s.apiKey! };
      },
    ],
    [
      'postgres',
      async () => {
        const pgServer = await startPostgres();
        cleanup.push(() => pgServer.stop());
        // The demo merchant is only for an embedded database: create one with the coffee program.
        return {
          env: { DATABASE_URL: pgServer.url, LOYALTY_RATE_LIMIT: '0' },
          key: async () => {
            const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/server/cli/create-merchant.ts', '--name', 'Kill', '--program', COFFEE_FILE], {
              cwd: ROOT,
              env: { ...process.env, DATABASE_URL: pgServer.url },
              encoding: 'utf8',
            });
            expect(r.status, r.stderr).toBe(0);
            return /^API key: (\S+)$/m.exec(r.stdout)![1]!;
          },
        };
      },
    ],
  ];

  for (const [name, setup] of backends) {
    test(name, async () => {
      const { env, key: keyOf } = await setup();
      const members = intended();
      const total = members.reduce((a, w) => a + w.length, 0);
      const first = await startServer(env);
      cleanup.push(async () => first.child.exitCode === null && first.child.kill('SIGKILL'));
      const key = await keyOf(first);
      let sent = 0;
      const killed = new Promise<void>((resolve) => first.child.once('exit', () => resolve()));
      await stream(first.url, key, members, () => {
        if (++sent === Math.floor(total / 2)) first.child.kill('SIGKILL');
      });
      await killed;
      expect(sent).toBeLessThan(total);

      const second = await startServer(env);
      cleanup.push(() => second.stop());
      // The client resends everything, with the same keys.
      await stream(second.url, key, members, () => {});

      // The server's members are exactly `loyalty replay` of what was meant.
      const replay = new Replay(compile(readFileSync(COFFEE_FILE, 'utf8'), COFFEE_FILE).program!);
      // The intended stream as one file, in time order (replay orders the whole stream).
      const lines = members.flat().map((w) => w.line).sort((a, b) => Date.parse(a.at as string) - Date.parse(b.at as string));
      lines.forEach((l, i) => replay.pushLine(JSON.stringify(l), i + 1));
      expect(replay.result().errors).toEqual([]);
      const expected = replay.result();
      const data = await gql(second.url, key, '{ members(first: 100) { edges { node { id balance tier { name } } } } verifyLedger { ok differences { member what message } } }');
      const stored = Object.fromEntries((data.members.edges as { node: { id: string; balance: number; tier: { name: string } | null } }[]).map((e) => [e.node.id, [e.node.balance, e.node.tier?.name ?? null]]));
      expect(stored).toEqual(Object.fromEntries(Object.entries(expected.members).map(([id, m]) => [id, [m.balance, m.tier]])));
      expect(data.verifyLedger).toEqual({ ok: true, differences: [] });
      // And the ledger, entry by entry, through the export.
      const exported = await (await fetch(new URL('/events.jsonl', second.url), { headers: { authorization: `Bearer ${key}` } })).text();
      const again = new Replay(compile(readFileSync(COFFEE_FILE, 'utf8'), COFFEE_FILE).program!);
      exported.split('\n').forEach((l, i) => again.pushLine(l, i + 1));
      expect(again.result().members).toEqual(expected.members);
    });
  }
});
