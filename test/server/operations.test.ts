// Operations: the data-directory lock and the local admin channel, draining
// on SIGTERM, a database that is down, malformed cursors, several processes on
// one PostgreSQL, structured logs with request ids, and metrics.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, describe, expect, test } from 'vitest';
import { openDatabase } from '../../src/server/db/index.ts';
import { recordAdvanceTimeRun, registry } from '../../src/server/metrics.ts';
import { createMerchant } from '../../src/server/services/merchants.ts';
import { createApp } from '../../src/server/yoga.ts';
import { example, rawRequest, startTestServer } from '../api/client.ts';
import { startPostgres } from './postgres.ts';
import { ROOT, startServer } from './process.ts';

const COFFEE = example('coffee-chain.loyalty');

function cli(script: string, args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, ['--import', 'tsx', `src/server/cli/${script}.ts`, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
}

async function post(url: string, key: string, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as { data?: Record<string, any>; errors?: { message: string; extensions?: { code?: string } }[] } };
}

describe('operations', { timeout: 180_000 }, () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const f of cleanup.reverse()) await f();
  });
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'loyalty-ops-'));
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    return dir;
  };

  test('the embedded data directory is locked; the CLIs that change data go through the running server', async () => {
    const dataDir = tempDir();
    const server = await startServer({ LOYALTY_DATA_DIR: dataDir });
    cleanup.push(() => server.stop());
    expect(server.apiKey).toMatch(/^lk_/);
    // The channel's secret is for the owner of the data directory only.
    expect(statSync(join(dataDir, 'admin.json')).mode & 0o077).toBe(0);

    // A second server on the same directory fails at once, saying what to do.
    const second = spawnSync(process.execPath, ['--import', 'tsx', 'src/server/server.ts'], {
      cwd: ROOT,
      env: { ...process.env, LOYALTY_DATA_DIR: dataDir, PORT: '0' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(second.status).toBe(1);
    expect(second.stderr).toContain(`the data directory ${dataDir} is in use by process ${server.child.pid}`);
    expect(second.stderr).toContain('npm run key');

    // merchant:create while the server runs: the key it prints works at once.
    const env = { LOYALTY_DATA_DIR: dataDir };
    const made = cli('create-merchant', ['--name', 'Harvest Lane', '--program', 'examples/grocer.loyalty'], env);
    expect(made.status, made.stderr).toBe(0);
    const grocerKey = /^API key: (\S+)$/m.exec(made.stdout)![1]!;
    const grocer = await post(server.url, grocerKey, '{ merchant { name } program { currency } }');
    expect(grocer.body.data).toEqual({ merchant: { name: 'Harvest Lane' }, program: { currency: 'AUD' } });
    const merchantId = /^Merchant: (\S+)/m.exec(made.stdout)![1]!;

    // npm run key -- create / list / revoke, through the same channel.
    const created = cli('key', ['create', '--scope', 'read', '--label', 'POS', '--merchant', merchantId], env);
    expect(created.status, created.stderr).toBe(0);
    const readKey = /^API key: (lk_\S+)$/m.exec(created.stdout)![1]!;
    expect((await post(server.url, readKey, '{ merchant { name } }')).status).toBe(200);
    expect((await post(server.url, readKey, 'mutation { advanceTime { entries } }')).status).toBe(403);
    const listed = cli('key', ['list', '--merchant', merchantId], env);
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`${readKey.slice(0, 10)}\\s+read\\s+last used .*POS`));
    expect(listed.stdout).not.toContain(readKey);
    // With two merchants, --merchant is needed.
    const ambiguous = cli('key', ['list'], env);
    expect(ambiguous.status).toBe(1);
    expect(ambiguous.stderr).toContain('--merchant');
    const revoked = cli('key', ['revoke', readKey.slice(0, 10), '--merchant', merchantId], env);
    expect(revoked.status, revoked.stderr).toBe(0);
    expect((await post(server.url, readKey, '{ merchant { name } }')).status).toBe(401);
    const broken = cli('create-merchant', ['--name', 'Broken', '--program', 'package.json'], env);
    expect(broken.status).toBe(1);
    expect(broken.stderr).toContain('program.loyalty:1:');

    expect(await server.stop()).toBe(0);
    // With the server stopped the CLI opens the directory itself (and the lock is free).
    const offline = cli('key', ['list', '--merchant', merchantId], env);
    expect(offline.status, offline.stderr).toBe(0);
    expect(offline.stdout).toContain('revoked');
  });

  test('SIGTERM drains: /health turns 503, requests in flight finish, then the process exits', async () => {
    const dataDir = tempDir();
    const server = await startServer({ LOYALTY_DATA_DIR: dataDir, LOYALTY_DRAIN_DELAY_MS: '1500' });
    cleanup.push(() => server.stop());
    const key = server.apiKey!;
    expect((await post(server.url, key, 'mutation { signup(input: { memberId: "d", at: "2026-03-02T09:00:00Z" }) { __typename } }')).status).toBe(200);
    const health = new URL('/health', server.url);
    expect((await fetch(health)).status).toBe(200);
    const orders = Array.from({ length: 25 }, (_, i) =>
      post(
        server.url,
        key,
        `mutation { recordOrder(input: { memberId: "d", orderId: "D-${i}", at: "2026-03-02T10:00:00Z", lines: [{ sku: "LATTE-12", category: "espresso", qty: 1, price: "4.75" }] }) { __typename } }`,
      ),
    );
    await new Promise((r) => setTimeout(r, 50));
    const exited = server.stop();
    await new Promise((r) => setTimeout(r, 300));
    const draining = await fetch(health);
    expect(draining.status).toBe(503);
    expect(await draining.json()).toEqual({ status: 'draining' });
    const results = await Promise.all(orders);
    expect(results.map((r) => r.status)).toEqual(results.map(() => 200));
    expect(results.filter((r) => r.body.errors)).toEqual([]);
    expect(await exited).toBe(0);
    expect(server.output()).toContain('"msg":"stopped"');

    const again = await startServer({ LOYALTY_DATA_DIR: dataDir });
    cleanup.push(() => again.stop());
    const member = await post(again.url, key, '{ member(id: "d") { orders(first: 50) { edges { node { id } } } } }');
    expect(member.body.data!.member.orders.edges).toHaveLength(25);
    expect(await again.stop()).toBe(0);
  });

  test('PostgreSQL: processes accept each other\'s member tokens; a database that is down is 503 SERVICE_UNAVAILABLE', async () => {
    const pgServer = await startPostgres();
    let stopped = false;
    cleanup.push(async () => {
      if (!stopped) await pgServer.stop();
    });
    const one = await openDatabase({ databaseUrl: pgServer.url, poolSize: 2 });
    const two = await openDatabase({ databaseUrl: pgServer.url, poolSize: 2 });
    const [appOne, appTwo] = [createApp(one), createApp(two)];
    const merchant = await createMerchant(one.prisma, 'Two processes', COFFEE);
    const signup = await rawRequest(appOne, { query: 'mutation { signup(input: { memberId: "ava" }) { __typename } }' }, merchant.apiKey);
    expect(signup.errors).toBeUndefined();
    const token = (await rawRequest(appOne, { query: 'mutation { createMemberToken(memberId: "ava") { token } }' }, merchant.apiKey)).data as {
      createMemberToken: { token: string };
    };
    const read = await rawRequest(appTwo, { query: '{ member(id: "ava") { balance } }' }, token.createMemberToken.token);
    expect(read.data).toEqual({ member: { balance: 100 } });

    // Malformed cursors are the client's mistake.
    for (const after of ['garbage', Buffer.from('GPC:S:not-a-uuid').toString('base64'), Buffer.from('GPC:J:{').toString('base64')]) {
      const res = await rawRequest(appOne, { query: 'query($a: String) { members(first: 2, after: $a) { edges { node { id } } } }', variables: { a: after } }, merchant.apiKey);
      expect(res.errors?.[0]?.extensions?.code, after).toBe('BAD_USER_INPUT');
      expect(res.status).toBe(200);
    }

    await pgServer.stop();
    stopped = true;
    for (const query of ['{ merchant { name } }', 'mutation { signup(input: { memberId: "ben" }) { __typename } }']) {
      const res = await rawRequest(appOne, { query }, merchant.apiKey);
      expect(res.status, query).toBe(503);
      expect(res.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    }
    expect((await appOne.fetch('http://loyalty.test/health')).status).toBe(503);
    await Promise.all([one.close(), two.close()]);
  });

  test('a database failing in the middle of an operation is 503 too', async () => {
    const server = await startTestServer('pglite');
    cleanup.push(() => server.stop());
    const merchant = await createMerchant(server.db.prisma, 'Flaky', COFFEE);
    // The credential is checked, then every later query finds the connection gone.
    const original = server.db.prisma.programVersion.findFirst.bind(server.db.prisma.programVersion);
    (server.db.prisma.programVersion as { findFirst: unknown }).findFirst = () =>
      Promise.reject(Object.assign(new Error('Connection terminated unexpectedly'), { code: 'ECONNRESET' }));
    try {
      const res = await rawRequest(server.app, { query: '{ program { name } }' }, merchant.apiKey);
      expect(res.status).toBe(503);
      expect(res.errors?.[0]).toMatchObject({ extensions: { code: 'SERVICE_UNAVAILABLE' } });
    } finally {
      (server.db.prisma.programVersion as { findFirst: unknown }).findFirst = original;
    }
    expect(server.masked).toEqual([]);
  });

  test('a structured log line per request, with its request id; metrics per operation and for writes and advanceTime', async () => {
    const server = await startTestServer('pglite');
    cleanup.push(() => server.stop());
    const lines: Record<string, unknown>[] = [];
    const logger = pino(
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
          done();
        },
      }),
    );
    const app = createApp(server.db, { logger });
    const merchant = await createMerchant(server.db.prisma, 'Observed', COFFEE);
    const res = await app.fetch('http://loyalty.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${merchant.apiKey}`, 'x-request-id': 'req-123' },
      body: JSON.stringify({ query: 'query Mine { merchant { name } program { version } }' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('req-123');
    const generated = await app.fetch('http://loyalty.test/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    await new Promise((r) => setTimeout(r, 10));
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: 'request', reqId: 'req-123', status: 200, operation: 'query merchant+program', merchant: merchant.id, key: merchant.apiKey.slice(0, 10) }),
    );
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'request', reqId: generated.headers.get('x-request-id'), status: 401 }));
    expect(JSON.stringify(lines)).not.toContain(merchant.apiKey);

    // Real writes through the API: an order accepted, then retried; a redemption refused.
    const write = (query: string) =>
      app.fetch('http://loyalty.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${merchant.apiKey}` },
        body: JSON.stringify({ query }),
      });
    await write('mutation { signup(input: { memberId: "obs", at: "2026-03-01T09:00:00Z" }) { __typename } }');
    const order = 'mutation { recordOrder(input: { memberId: "obs", orderId: "O-1", at: "2026-03-02T09:00:00Z", lines: [{ sku: "LATTE-12", category: "espresso", qty: 1, price: "4.75" }] }) { __typename } }';
    await write(order);
    await write(order);
    await write('mutation { redeemPoints(input: { memberId: "obs", points: 100000, at: "2026-03-02T10:00:00Z" }) { __typename } }');
    recordAdvanceTimeRun({ trigger: 'schedule', changed: 3, failed: 1, entries: 4, seconds: 0.5 });
    const metrics = await (await app.fetch('http://loyalty.test/metrics')).text();
    expect(metrics).toMatch(/loyalty_http_requests_total\{operation="query merchant\+program",status="200"\} [1-9]/);
    expect(metrics).toMatch(/loyalty_http_request_duration_seconds_count\{operation="query merchant\+program"\} [1-9]/);
    expect(metrics).toMatch(/loyalty_writes_total\{operation="signup",outcome="accepted"\} [1-9]/);
    expect(metrics).toMatch(/loyalty_writes_total\{operation="recordOrder",outcome="accepted"\} [1-9]/);
    expect(metrics).toMatch(/loyalty_writes_total\{operation="recordOrder",outcome="replayed"\} [1-9]/);
    expect(metrics).toMatch(/loyalty_write_duration_seconds_count\{operation="recordOrder"\} [2-9]/);
    expect(metrics).toMatch(/loyalty_writes_total\{operation="redeemPoints",outcome="refused"\} [1-9]/);
    expect(metrics).toMatch(/loyalty_advance_time_runs_total\{trigger="schedule",result="failures"\} [1-9]/);
    expect(metrics).toMatch(/loyalty_advance_time_members_total\{result="changed"\} [3-9]/);
    expect(metrics).toContain('loyalty_process_cpu_seconds_total');
    expect(registry.contentType).toContain('text/plain');
    expect((await createApp(server.db, { metrics: false }).fetch('http://loyalty.test/metrics')).status).not.toBe(200);
  });
});
