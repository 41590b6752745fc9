// recordOrder's plain-SQL transaction (services/transaction.ts): its round
// trips, the write statement's own version check (COMMIT goes out with it),
// and concurrent writes to one unlocked row (a referrer) that the check
// turns into retries. On PGlite and on PostgreSQL.
import { describe, expect, test } from 'vitest';
import { poolOf } from '../../src/server/db/index.ts';
import { createApiKey } from '../../src/server/services/auth.ts';
import { inSqlTransaction, inTransaction, prismaSql } from '../../src/server/services/transaction.ts';
import { loadMembers, memberCache } from '../../src/server/services/members.ts';
import { writeRows, type WriteRows } from '../../src/server/services/write.ts';
import { example, newMerchant, ok, rawRequest, request, verifiedServer, type Backend, type TestServer } from './client.ts';
import { MemberDocument, PublishProgramDocument, RecordOrderDocument, SignupDocument } from './generated/operations.ts';

const COFFEE = example('coffee-chain.loyalty');
const beans = (qty = 1) => ({ sku: 'WB-ETHIOPIA-12OZ', category: 'whole-beans', qty, price: '16.00' });

for (const backend of ['pglite', 'postgres'] as Backend[]) {
  describe(`recordOrder's write path on ${backend}`, { timeout: 120_000 }, () => {
    let server: TestServer;
    verifiedServer(backend, (s) => (server = s), { eachTest: true });

    test('an order with a key the process knows is two round trips (the lock statement, the write with COMMIT), one when the process wrote the member\'s last order', async () => {
      const m = await newMerchant(server, COFFEE);
      await ok(server.app, m.key, SignupDocument, { input: { memberId: 'a', at: '2026-03-02T09:00:00Z' } });
      // Only what the write itself returns (fields like `order` or `member` read more).
      const order = (input: object, key = m.key) =>
        rawRequest(server.app, { query: 'mutation($i: RecordOrderInput!) { recordOrder(input: $i) { __typename ... on RecordOrderPayload { points replayed } } }', variables: { i: input } }, key);
      const count = async (what: () => Promise<unknown>) => {
        const trips = server.db.roundTrips();
        const statements = server.db.statements();
        await what();
        return { trips: server.db.roundTrips() - trips, statements: server.db.statements() - statements };
      };
      // The first order of a process may read the active program; the second is the member's first this process wrote.
      await ok(server.app, m.key, SignupDocument, { input: { memberId: 'b', at: '2026-03-02T09:00:00Z' } });
      await ok(server.app, m.key, RecordOrderDocument, { input: { memberId: 'b', orderId: 'B-1', lines: [beans()], at: '2026-03-03T10:00:00Z' } });
      expect(await count(() => order({ memberId: 'a', orderId: 'O-1', lines: [beans()], at: '2026-03-03T10:00:00Z' }))).toEqual({ trips: 2, statements: 4 });
      // The next order of that member: BEGIN, the write and COMMIT in one round trip.
      const input = { memberId: 'a', orderId: 'O-2', lines: [beans()], at: '2026-03-04T10:00:00Z' };
      let first: { __typename: string; points: number; replayed: boolean } | undefined;
      expect(
        await count(async () => {
          first = ((await order(input)).data as { recordOrder: typeof first }).recordOrder;
        }),
      ).toEqual({ trips: 1, statements: 3 });
      expect(first).toMatchObject({ __typename: 'RecordOrderPayload', replayed: false });
      expect(first!.points).toBeGreaterThan(0);
      // A retry of it: the one-trip write fails on the order id, then the lock statement finds the order and its entries go with COMMIT.
      let retry: unknown;
      expect(await count(async () => (retry = (await order(input)).data))).toEqual({ trips: 3, statements: 7 });
      expect(retry).toEqual({ recordOrder: { ...first, replayed: true } });
      // A key the process has not seen yet is looked up first: three.
      const fresh = await createApiKey(server.db.prisma, m.id, 'till 2', 'write');
      let third: unknown;
      expect(await count(async () => (third = (await order({ ...input, orderId: 'O-3' }, fresh)).data))).toEqual({ trips: 3, statements: 5 });
      expect(third).toMatchObject({ recordOrder: { __typename: 'RecordOrderPayload', replayed: false } });
    });

    test("the one-trip write of a cached member falls back to the lock statement when the row, the program or the key changed behind the process's back", async () => {
      const m = await newMerchant(server, COFFEE);
      await ok(server.app, m.key, SignupDocument, { input: { memberId: 'c', at: '2026-03-02T09:00:00Z' } });
      const order = (orderId: string, day: number, key = m.key) =>
        rawRequest(
          server.app,
          { query: 'mutation($i: RecordOrderInput!) { recordOrder(input: $i) { __typename ... on RecordOrderPayload { points } } }', variables: { i: { memberId: 'c', orderId, lines: [beans()], at: `2026-03-${String(day).padStart(2, '0')}T10:00:00Z` } } },
          key,
        );
      const balance = async () => (await ok(server.app, m.key, MemberDocument, { id: 'c' })).member!.balance;
      const trips = async (what: () => Promise<unknown>) => {
        const before = server.db.roundTrips();
        await what();
        return server.db.roundTrips() - before;
      };
      await order('C-1', 3);
      // What another process would leave: the row this process cached, written since by someone else.
      const stale = memberCache.take(m.id, 'c')!;
      expect(stale).toBeDefined();
      const other = await createApiKey(server.db.prisma, m.id, 'till', 'write');
      const before = await balance();
      expect(await order('C-2', 4, other)).toMatchObject({ data: { recordOrder: { __typename: 'RecordOrderPayload' } } });
      const earned = (await balance()) - before;
      expect(earned).toBeGreaterThan(0);
      expect(memberCache.take(m.id, 'c')?.version).toBe(stale.version + 1);
      memberCache.put(m.id, stale);
      // The cached row is at the version before C-2: the write misses, the lock statement reads C-2's row, both orders count.
      expect(await trips(() => order('C-3', 5))).toBe(3);
      expect((await balance()) - before).toBe(2 * earned);
      // Cached again (C-3): one trip.
      expect(await trips(() => order('C-4', 6))).toBe(1);
      // A new program version (a publish leaves the process's compiled program to the next write's
      // check, as one by another process would): the one-trip write misses, and the order earns under it.
      const active = await server.db.prisma.programVersion.findFirstOrThrow({ where: { merchantId: m.id, active: true } });
      const doubled = active.source.replace('base 10 points per 1 USD', 'base 30 points per 1 USD');
      expect(doubled).not.toBe(active.source);
      await ok(server.app, m.key, PublishProgramDocument, { source: doubled });
      expect(memberCache.take(m.id, 'c')).toBeDefined();
      memberCache.put(m.id, (await loadMembers(server.db.prisma as never, m.id, ['c'], false)).get('c')!);
      const atFour = await balance();
      // The one-trip write, the lock statement, the new version's row (this process has not compiled it), the write.
      expect(await trips(() => order('C-5', 7))).toBe(4);
      expect((await balance()) - atFour).toBeGreaterThan(earned);
      // The key revoked elsewhere: refused with nothing written, though the member is cached.
      expect(await trips(() => order('C-6', 8, other))).toBe(1);
      await server.db.prisma.apiKey.updateMany({ where: { merchantId: m.id, label: 'till' }, data: { revokedAt: new Date() } });
      const refusedAt = await balance();
      const res = await order('C-7', 9, other);
      expect(res.status).toBe(401);
      expect(await balance()).toBe(refusedAt);
      expect(await server.db.prisma.order.count({ where: { merchantId: m.id, externalId: 'C-7' } })).toBe(0);
    });

    test('loyalty_check_cached fails the statement (40001) for a version no longer active, another sandbox flag, or a revoked key', async () => {
      const m = await newMerchant(server, COFFEE);
      const pool = poolOf(server.db.prisma);
      const active = await server.db.prisma.programVersion.findFirstOrThrow({ where: { merchantId: m.id, active: true } });
      const key = await createApiKey(server.db.prisma, m.id, 'till', 'write');
      const keyRow = await server.db.prisma.apiKey.findFirstOrThrow({ where: { merchantId: m.id, label: 'till' } });
      // On a client released without an error: pool.query drops a connection whose query failed (PGlite's only one).
      const check = async (version: string, sandbox: boolean, apiKey: string | null) => {
        const client = await pool.connect();
        try {
          return await client.query('SELECT loyalty_check_cached($1::uuid, $2::uuid, $3::boolean, $4::uuid) AS ok', [m.id, version, sandbox, apiKey]);
        } finally {
          client.release();
        }
      };
      expect((await check(active.id, false, keyRow.id)).rows).toEqual([{ ok: true }]);
      expect((await check(active.id, false, null)).rows).toEqual([{ ok: true }]);
      await expect(check(active.id, true, null)).rejects.toMatchObject({ code: '40001' });
      await expect(check(keyRow.id, false, null)).rejects.toMatchObject({ code: '40001' });
      await expect(check(active.id, false, '00000000-0000-0000-0000-000000000000')).rejects.toMatchObject({ code: '40001' });
      await ok(server.app, m.key, PublishProgramDocument, { source: COFFEE.replace('base 10 points per 1 USD', 'base 11 points per 1 USD') });
      await expect(check(active.id, false, null)).rejects.toMatchObject({ code: '40001' });
      await server.db.prisma.apiKey.update({ where: { id: keyRow.id }, data: { revokedAt: new Date() } });
      const next = await server.db.prisma.programVersion.findFirstOrThrow({ where: { merchantId: m.id, active: true } });
      expect((await check(next.id, false, null)).rows).toEqual([{ ok: true }]);
      await expect(check(next.id, false, keyRow.id)).rejects.toMatchObject({ code: '40001' });
      expect(key).toBeTruthy();
    });

    test("a referee's row in the cache before its first order (no order yet: the referral may apply) goes through the lock statement, which reads the referrer", async () => {
      const m = await newMerchant(server, COFFEE);
      await ok(server.app, m.key, SignupDocument, { input: { memberId: 'R', at: '2026-03-01T09:00:00Z' } });
      await ok(server.app, m.key, SignupDocument, { input: { memberId: 'e', referrerId: 'R', at: '2026-03-02T09:00:00Z' } });
      const row = (await loadMembers(server.db.prisma as never, m.id, ['e'], false)).get('e')!;
      expect(row.state).toMatchObject({ referrer: 'R', orders: 0 });
      memberCache.put(m.id, row);
      const order = (orderId: string, at: string) =>
        rawRequest(server.app, { query: 'mutation($i: RecordOrderInput!) { recordOrder(input: $i) { __typename } }', variables: { i: { memberId: 'e', orderId, lines: [beans(2)], at } } }, m.key);
      // The merchant's first order in this process reads its active program: the referrer's own, first.
      await ok(server.app, m.key, RecordOrderDocument, { input: { memberId: 'R', orderId: 'R-1', lines: [beans()], at: '2026-03-02T10:00:00Z' } });
      const referrer = async () => (await ok(server.app, m.key, MemberDocument, { id: 'R' })).member!.balance;
      const before = await referrer();
      const trips = server.db.roundTrips();
      expect((await order('E-1', '2026-03-03T10:00:00Z')).data).toEqual({ recordOrder: { __typename: 'RecordOrderPayload' } });
      expect(server.db.roundTrips() - trips).toBe(2);
      expect((await referrer()) - before).toBe(300);
      expect(await server.db.prisma.referral.count({ where: { merchantId: m.id, rewardedAt: { not: null } } })).toBe(1);
      // Its next order (the referral spent) goes in one.
      const next = server.db.roundTrips();
      expect((await order('E-2', '2026-03-04T10:00:00Z')).data).toEqual({ recordOrder: { __typename: 'RecordOrderPayload' } });
      expect(server.db.roundTrips() - next).toBe(1);
      expect((await referrer()) - before).toBe(300);
    });

    test('a known key revoked elsewhere is refused at once: by the lock statement, before any other operation, and as a failed request answers', async () => {
      const m = await newMerchant(server, COFFEE);
      await ok(server.app, m.key, SignupDocument, { input: { memberId: 'k', at: '2026-03-02T09:00:00Z' } });
      const recordOrder = 'mutation($i: RecordOrderInput!) { recordOrder(input: $i) { __typename ... on RecordOrderPayload { points } } }';
      const input = (orderId: string, lines: unknown[] = [beans()]) => ({ i: { memberId: 'k', orderId, lines, at: '2026-03-04T10:00:00Z' } });
      // Four keys, each used once so that this process knows it, then revoked as another process would (the row only).
      const keys: string[] = [];
      for (let n = 0; n < 4; n++) {
        const key = await createApiKey(server.db.prisma, m.id, `till ${n}`, 'write');
        expect((await rawRequest(server.app, { query: '{ merchant { id } }' }, key)).data).toEqual({ merchant: { id: m.id } });
        keys.push(key);
      }
      await server.db.prisma.apiKey.updateMany({ where: { merchantId: m.id, label: { startsWith: 'till ' } }, data: { revokedAt: new Date() } });
      const refused = (res: { status: number; data?: unknown; errors?: readonly { extensions?: unknown }[] }, what: string) => {
        expect(res.status, what).toBe(401);
        expect(res.data, what).toBeUndefined();
        expect(res.errors, what).toEqual([{ message: 'this credential was revoked', extensions: { code: 'UNAUTHENTICATED', reason: 'revoked' } }]);
      };
      // recordOrder: its lock statement finds the key revoked; nothing is written, and the answer is the 401 a lookup gives.
      const http = await server.app.fetch('http://loyalty.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${keys[0]}` },
        body: JSON.stringify({ query: recordOrder, variables: input('R-1') }),
      });
      expect(http.headers.get('www-authenticate')).toContain('Bearer');
      refused({ status: http.status, ...((await http.json()) as object) }, 'recordOrder');
      expect(await server.db.prisma.order.count({ where: { merchantId: m.id, externalId: 'R-1' } })).toBe(0);
      expect(await server.db.prisma.event.count({ where: { merchantId: m.id, key: 'order:R-1' } })).toBe(0);
      // Once refused, the key is looked up again on every request.
      refused(await rawRequest(server.app, { query: recordOrder, variables: input('R-1') }, keys[0]!), 'recordOrder again');
      // Any other operation: the key row is read before it executes.
      refused(await rawRequest(server.app, { query: 'mutation { advanceTime { entries } }' }, keys[1]!), 'advanceTime');
      // A request that fails before executing (validation), and a recordOrder refused before its statement (a bad price).
      refused(await rawRequest(server.app, { query: '{ nonsense }' }, keys[2]!), 'validation error');
      refused(await rawRequest(server.app, { query: recordOrder, variables: input('R-2', [{ ...beans(), price: 'free' }]) }, keys[3]!), 'bad input');
      expect(await server.db.prisma.event.count({ where: { merchantId: m.id, key: { in: ['order:R-1', 'order:R-2'] } } })).toBe(0);
      // The merchant's own key still works.
      expect((await ok(server.app, m.key, MemberDocument, { id: 'k' })).member?.balance).toBeGreaterThanOrEqual(0);
    });

    test('a write statement whose version check misses fails (40001) and its COMMIT commits nothing', async () => {
      const m = await newMerchant(server, COFFEE);
      await ok(server.app, m.key, SignupDocument, { input: { memberId: 'v', at: '2026-03-02T09:00:00Z' } });
      const pool = poolOf(server.db.prisma);
      const member = await server.db.prisma.member.findFirstOrThrow({ where: { merchantId: m.id, externalId: 'v' } });
      const version = await server.db.prisma.programVersion.findFirstOrThrow({ where: { merchantId: m.id, active: true } });
      const at = Date.parse('2026-03-05T10:00:00Z');
      const stale: WriteRows = {
        merchantId: m.id,
        event: { type: 'adjust', member: 'v', at, line: '{}', key: 'write:stale', bodyHash: 'x', programVersionId: version.id, refusalCode: null, refusal: null },
        order: null,
        // Read at a version the row has moved past.
        updates: [{ id: member.id, version: member.version + 7, state: member.state, balance: 999, tier: null, nextDueAt: null, lastEventAt: at }],
        inserts: [],
        entries: [{ memberId: member.id, at, kind: 'adjust', points: 899, rule: null, ref: null, line: null, reason: 'stale', actor: null, orderId: null }],
        notifications: [],
        rewarded: [],
      };
      // Retried as a conflict until the retries run out: on the plain-SQL transaction with COMMIT
      // sent along, and on Prisma's (the other writes), whose error wraps the SQLSTATE.
      await expect(inSqlTransaction(pool, (tx) => writeRows(tx, stale, { commit: true }))).rejects.toMatchObject({ code: 'WRITE_CONFLICT' });
      await expect(inTransaction(server.db.prisma, (tx) => writeRows(prismaSql(tx), stale))).rejects.toMatchObject({ code: 'WRITE_CONFLICT' });
      const after = await server.db.prisma.member.findUniqueOrThrow({ where: { id: member.id } });
      expect(after.version).toBe(member.version);
      expect(after.balance).toBe(member.balance);
      expect(await server.db.prisma.event.count({ where: { merchantId: m.id, key: 'write:stale' } })).toBe(0);
      expect(await server.db.prisma.ledgerEntry.count({ where: { memberId: member.id, reason: 'stale' } })).toBe(0);
    }, 90_000);

    test("concurrent first orders of one referrer's referees: each reward lands once, the referrer's row through retries", async () => {
      const m = await newMerchant(server, COFFEE);
      await ok(server.app, m.key, SignupDocument, { input: { memberId: 'R', at: '2026-03-01T09:00:00Z' } });
      const referees = Array.from({ length: 8 }, (_, i) => `r${i}`);
      for (const id of referees) await ok(server.app, m.key, SignupDocument, { input: { memberId: id, referrerId: 'R', at: '2026-03-02T09:00:00Z' } });
      const results = await Promise.all(
        referees.map((id, i) => request(server.app, m.key, RecordOrderDocument, { input: { memberId: id, orderId: `F-${i}`, lines: [beans(2)], at: '2026-03-03T10:00:00Z' } })),
      );
      expect(results.filter((r) => r.errors)).toEqual([]);
      expect(results.every((r) => r.data?.recordOrder.__typename === 'RecordOrderPayload')).toBe(true);
      const referrer = (await ok(server.app, m.key, MemberDocument, { id: 'R' })).member!;
      const rewards = await server.db.prisma.ledgerEntry.count({ where: { merchantId: m.id, rule: 'referral:referrer' } });
      expect(rewards).toBe(referees.length);
      // The signup bonus and 300 points per referee.
      expect(referrer.balance).toBe(100 + 300 * referees.length);
      const rewarded = await server.db.prisma.referral.count({ where: { merchantId: m.id, rewardedAt: { not: null }, rewardOrderId: { not: null } } });
      expect(rewarded).toBe(referees.length);
    });
  });
}
