// recordOrder's plain-SQL transaction (services/transaction.ts): its round
// trips, the write statement's own version check (COMMIT goes out with it),
// and concurrent writes to one unlocked row (a referrer) that the check
// turns into retries. On PGlite and on PostgreSQL.
import { describe, expect, test } from 'vitest';
import { poolOf } from '../../src/server/db/index.ts';
import { createApiKey } from '../../src/server/services/auth.ts';
import { inSqlTransaction, inTransaction, prismaSql } from '../../src/server/services/transaction.ts';
import { writeRows, type WriteRows } from '../../src/server/services/write.ts';
import { example, newMerchant, ok, rawRequest, request, verifiedServer, type Backend, type TestServer } from './client.ts';
import { MemberDocument, RecordOrderDocument, SignupDocument } from './generated/operations.ts';

const COFFEE = example('coffee-chain.loyalty');
const beans = (qty = 1) => ({ sku: 'WB-ETHIOPIA-12OZ', category: 'whole-beans', qty, price: '16.00' });

for (const backend of ['pglite', 'postgres'] as Backend[]) {
  describe(`recordOrder's write path on ${backend}`, { timeout: 120_000 }, () => {
    let server: TestServer;
    verifiedServer(backend, (s) => (server = s), { eachTest: true });

    test('an order with a key the process knows is two round trips: BEGIN with the lock statement (it reads the key row too), the write with COMMIT', async () => {
      const m = await newMerchant(server, COFFEE);
      await ok(server.app, m.key, SignupDocument, { input: { memberId: 'a', at: '2026-03-02T09:00:00Z' } });
      // The first order of a process may read the active program; count the second.
      await ok(server.app, m.key, RecordOrderDocument, { input: { memberId: 'a', orderId: 'O-1', lines: [beans()], at: '2026-03-03T10:00:00Z' } });
      // Only what the write itself returns (fields like `order` or `member` read more).
      const order = (input: object) =>
        rawRequest(server.app, { query: 'mutation($i: RecordOrderInput!) { recordOrder(input: $i) { __typename ... on RecordOrderPayload { points replayed } } }', variables: { i: input } }, m.key);
      const input = { memberId: 'a', orderId: 'O-2', lines: [beans()], at: '2026-03-04T10:00:00Z' };
      const trips = server.db.roundTrips();
      const statements = server.db.statements();
      const res = await order(input);
      const first = (res.data as { recordOrder: { __typename: string; points: number; replayed: boolean } }).recordOrder;
      expect(first).toMatchObject({ __typename: 'RecordOrderPayload', replayed: false });
      expect(first.points).toBeGreaterThan(0);
      expect(server.db.statements() - statements).toBe(4);
      expect(server.db.roundTrips() - trips).toBe(2);
      // A retry of it only reads: the lock statement, then its entries with COMMIT.
      const retryTrips = server.db.roundTrips();
      expect((await order(input)).data).toEqual({ recordOrder: { ...first, replayed: true } });
      expect(server.db.roundTrips() - retryTrips).toBe(2);
      // A key the process has not seen yet is looked up first: three.
      const fresh = await createApiKey(server.db.prisma, m.id, 'till 2', 'write');
      const freshTrips = server.db.roundTrips();
      const third = await rawRequest(server.app, { query: 'mutation($i: RecordOrderInput!) { recordOrder(input: $i) { __typename } }', variables: { i: { ...input, orderId: 'O-3' } } }, fresh);
      expect(third.data).toEqual({ recordOrder: { __typename: 'RecordOrderPayload' } });
      expect(server.db.roundTrips() - freshTrips).toBe(3);
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
