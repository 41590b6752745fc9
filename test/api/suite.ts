// The API test suite, run once on embedded PGlite (pglite.test.ts) and once on
// a real PostgreSQL 15 (postgres.test.ts). Every test talks GraphQL through
// `app.fetch` with operations typed by graphql-codegen; after every test the
// cached balances must equal the ledger sums.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { compile } from '../../dsl/index.ts';
import { Replay } from '../../src/engine/index.ts';
import { balanceMismatches, example, newMerchant, ok, rawRequest, request, verifiedServer, type Backend, type TestServer } from './client.ts';
import { feedFixture } from './fixtures.ts';
import {
  ActiveProgramDocument,
  AdjustPointsDocument,
  MemberChallengesDocument,
  MemberRewardsDocument,
  ProgramChallengesDocument,
  ProgramRewardsDocument,
  RedeemRewardDocument,
  AdvanceTimeDocument,
  CancelClubDocument,
  CheckProgramDocument,
  JoinClubDocument,
  MemberDocument,
  MemberLedgerDocument,
  MemberOrdersDocument,
  MemberPendingDocument,
  MembersDocument,
  MembersWithLedgerDocument,
  MerchantDocument,
  OrderDocument,
  ProgramVersionsDocument,
  PublishProgramDocument,
  QuoteDocument,
  RecordEventDocument,
  RecordOrderDocument,
  RedeemPointsDocument,
  RefundOrderDocument,
  SignupDocument,
  SimulateDocument,
  type MemberLedgerQuery,
  type MembersQuery,
} from './generated/operations.ts';

const EXAMPLES = new URL('../../examples/', import.meta.url);
const COFFEE = example('coffee-chain.loyalty');

const latte = (qty = 1) => ({ sku: 'LATTE-12', category: 'espresso', qty, price: '4.75' });
const beans = (qty = 1) => ({ sku: 'WB-ETHIOPIA-12OZ', category: 'whole-beans', qty, price: '16.00' });

export function apiSuite(backend: Backend) {
  describe(`GraphQL API on ${backend}`, { timeout: 120_000 }, () => {
    let server: TestServer;

    verifiedServer(backend, (s) => (server = s), { eachTest: true });

    /** A merchant with the coffee program and member `m` signed up at `at`. */
    async function coffeeMember(id = 'm', at = '2026-03-02T09:00:00Z', options: { sandbox?: boolean } = {}) {
      const merchant = await newMerchant(server, COFFEE, options);
      const res = await ok(server.app, merchant.key, SignupDocument, { input: { memberId: id, at, birthday: '1990-07-14' } });
      expect(res.signup.__typename).toBe('MemberPayload');
      return merchant;
    }

    describe('authentication and tenants', () => {
      test('no key or a wrong key is UNAUTHENTICATED', async () => {
        for (const key of [null, 'lk_not-a-real-key', 'garbage']) {
          const res = await request(server.app, key, MerchantDocument, {});
          expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
        }
      });

      test('a key sees its own merchant', async () => {
        const m = await newMerchant(server);
        const res = await ok(server.app, m.key, MerchantDocument, {});
        expect(res.merchant.id).toBe(m.id);
      });

      test("merchant A's key never sees or changes merchant B's data", async () => {
        const a = await coffeeMember('shared-id');
        const b = await newMerchant(server, COFFEE);
        // B cannot read A's member, list it, or write to it.
        expect((await ok(server.app, b.key, MemberDocument, { id: 'shared-id' })).member).toBeNull();
        expect((await ok(server.app, b.key, MembersDocument, { first: 50 })).members.edges).toEqual([]);
        const order = await ok(server.app, b.key, RecordOrderDocument, {
          input: { memberId: 'shared-id', orderId: 'o-1', lines: [latte()], at: '2026-03-02T10:00:00Z' },
        });
        expect(order.recordOrder.__typename).toBe('EventRefused');
        const redeem = await ok(server.app, b.key, RedeemPointsDocument, { input: { memberId: 'shared-id', points: 1 } });
        expect(redeem.redeemPoints.__typename).toBe('EventRefused');
        const quote = await request(server.app, b.key, QuoteDocument, { member: 'shared-id', order: { lines: [latte()] } });
        expect(quote.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
        // B's ids are its own: the same member and order ids make separate rows.
        await ok(server.app, b.key, SignupDocument, { input: { memberId: 'shared-id', at: '2026-03-02T09:00:00Z' } });
        await ok(server.app, a.key, RecordOrderDocument, {
          input: { memberId: 'shared-id', orderId: 'o-1', lines: [latte()], at: '2026-03-02T10:00:00Z' },
        });
        const bOrder = await ok(server.app, b.key, RecordOrderDocument, {
          input: { memberId: 'shared-id', orderId: 'o-1', lines: [latte(2)], at: '2026-03-02T10:00:00Z' },
        });
        expect(bOrder.recordOrder.__typename).toBe('RecordOrderPayload');
        // B's program publication does not touch A's.
        await ok(server.app, b.key, PublishProgramDocument, { source: COFFEE.replace('Bean & Leaf Rewards', 'B Rewards') });
        expect((await ok(server.app, a.key, ActiveProgramDocument, {})).program?.name).toBe('Bean & Leaf Rewards');
        const aMember = (await ok(server.app, a.key, MemberDocument, { id: 'shared-id' })).member!;
        const bMember = (await ok(server.app, b.key, MemberDocument, { id: 'shared-id' })).member!;
        expect(aMember.balance).not.toBe(bMember.balance);
      });
    });

    describe('programs', () => {
      test('publish re-derives every member\'s tier under the new version at once', async () => {
        const m = await coffeeMember('a');
        await ok(server.app, m.key, SignupDocument, { input: { memberId: 'b', at: '2026-03-02T10:00:00Z' } });
        // 'a' spends 160 USD (Green; Silver is at 250), 'b' spends 300 USD (Silver).
        await ok(server.app, m.key, RecordOrderDocument, { input: { memberId: 'a', orderId: 'A', lines: [beans(10)], at: '2026-03-03T10:00:00Z' } });
        await ok(server.app, m.key, RecordOrderDocument, { input: { memberId: 'b', orderId: 'B', lines: [beans(10), beans(5), { ...beans(1), sku: 'WB-2', price: '60.00' }], at: '2026-03-03T10:00:00Z' } });
        const tiers = async () =>
          Object.fromEntries(
            (await ok(server.app, m.key, MembersDocument, { first: 10 })).members.edges.map((e) => [e.node.id, e.node.tier?.name ?? null]),
          );
        expect(await tiers()).toEqual({ a: 'Green', b: 'Silver' });
        // Silver at 100 USD: 'a' qualifies now, not at its next order.
        const cheaper = COFFEE.replace('tier Silver at 250 USD', 'tier Silver at 100 USD');
        const pub = await ok(server.app, m.key, PublishProgramDocument, { source: cheaper });
        expect(pub.publishProgram).toMatchObject({ __typename: 'PublishProgramPayload', created: true, retiered: 1 });
        expect(await tiers()).toEqual({ a: 'Silver', b: 'Silver' });
        const silver = await ok(server.app, m.key, MembersDocument, { first: 10, tier: 'Silver' });
        expect(silver.members.edges.map((e) => e.node.id).sort()).toEqual(['a', 'b']);
        // Silver at 400 USD: 'b' falls below it and keeps Silver for the program's 30 days of grace, then drops.
        const dearer = COFFEE.replace('tier Silver at 250 USD', 'tier Silver at 400 USD');
        const again = await ok(server.app, m.key, PublishProgramDocument, { source: dearer });
        expect(again.publishProgram).toMatchObject({ retiered: 2 });
        expect(await tiers()).toEqual({ a: 'Silver', b: 'Silver' });
        await ok(server.app, m.key, AdvanceTimeDocument, { at: '2026-04-03T10:00:01Z' });
        expect(await tiers()).toEqual({ a: 'Green', b: 'Green' });
      });

      test('publish: diagnostics change nothing; success makes a new active version', async () => {
        const m = await newMerchant(server);
        const bad = await ok(server.app, m.key, PublishProgramDocument, {
          source: 'program "x" {\n  currency USD\n  tiers { tier Silvr at 10 USD }\n  rule "r" { }\n}\n',
        });
        expect(bad.publishProgram.__typename).toBe('ProgramInvalid');
        if (bad.publishProgram.__typename !== 'ProgramInvalid') throw new Error();
        expect(bad.publishProgram.diagnostics.length).toBeGreaterThan(0);
        expect(bad.publishProgram.diagnostics[0]!.rendered).toContain('program.loyalty:');
        expect((await ok(server.app, m.key, ActiveProgramDocument, {})).program).toBeNull();

        const v1 = await ok(server.app, m.key, PublishProgramDocument, { source: COFFEE });
        if (v1.publishProgram.__typename !== 'PublishProgramPayload') throw new Error(JSON.stringify(v1));
        expect(v1.publishProgram.created).toBe(true);
        expect(v1.publishProgram.program).toMatchObject({ version: 1, active: true, currency: 'USD', unit: 'Beans' });
        expect(v1.publishProgram.program.tiers.map((t) => t.name)).toEqual(['Green', 'Silver', 'Gold']);
        expect(v1.publishProgram.program.clubs[0]).toMatchObject({ name: 'Bean Club', multiplier: '2', fee: expect.stringContaining('9.99') });

        const same = await ok(server.app, m.key, PublishProgramDocument, { source: COFFEE });
        if (same.publishProgram.__typename !== 'PublishProgramPayload') throw new Error();
        expect(same.publishProgram.created).toBe(false);
        expect(same.publishProgram.program.version).toBe(1);

        const v2 = await ok(server.app, m.key, PublishProgramDocument, { source: COFFEE.replace('bonus 100 points', 'bonus 120 points') });
        if (v2.publishProgram.__typename !== 'PublishProgramPayload') throw new Error();
        expect(v2.publishProgram.program.version).toBe(2);
        const versions = await ok(server.app, m.key, ProgramVersionsDocument, { first: 10 });
        expect(versions.programVersions.edges.map((e) => [e.node.version, e.node.active])).toEqual([
          [2, true],
          [1, false],
        ]);
        const active = await ok(server.app, m.key, ActiveProgramDocument, {});
        expect(active.program?.version).toBe(2);
      });

      test('members carry on under a new version; each entry names the version that wrote it', async () => {
        const m = await coffeeMember('ava', '2026-03-02T09:00:00Z');
        await ok(server.app, m.key, RecordOrderDocument, { input: { memberId: 'ava', orderId: 'v1-order', lines: [latte()], at: '2026-03-02T10:00:00Z' } });
        const before = (await ok(server.app, m.key, MemberDocument, { id: 'ava' })).member!.balance;
        const v2 = COFFEE.replace('base 10 points per 1 USD', 'base 20 points per 1 USD');
        expect((await ok(server.app, m.key, PublishProgramDocument, { source: v2 })).publishProgram.__typename).toBe('PublishProgramPayload');
        const order = await ok(server.app, m.key, RecordOrderDocument, { input: { memberId: 'ava', orderId: 'v2-order', lines: [latte()], at: '2026-03-03T10:00:00Z' } });
        if (order.recordOrder.__typename !== 'RecordOrderPayload') throw new Error(JSON.stringify(order));
        expect(order.recordOrder.entries.find((e) => e.rule === 'base')).toMatchObject({ points: 95, programVersion: { version: 2 } });
        expect(order.recordOrder.member.balance).toBe(before + order.recordOrder.points);
        const ledger = await ok(server.app, m.key, MemberLedgerDocument, { id: 'ava', first: 50 });
        const versions = ledger.member!.ledger.edges.map((e) => [e.node.ref, e.node.programVersion.version]);
        expect(versions).toContainEqual(['v1-order', 1]);
        expect(versions).toContainEqual(['v2-order', 2]);
        // A refund of the v1 order is computed from what that order earned.
        const refund = await ok(server.app, m.key, RefundOrderDocument, {
          input: { memberId: 'ava', orderId: 'v1-order', refundId: 'rf-1', lines: [{ sku: 'LATTE-12', qty: 1 }], at: '2026-03-04T10:00:00Z' },
        });
        if (refund.refundOrder.__typename !== 'MemberPayload') throw new Error(JSON.stringify(refund));
        const v1Earned = ledger.member!.ledger.edges.filter((e) => e.node.ref === 'v1-order').reduce((a, e) => a + e.node.points, 0);
        expect(refund.refundOrder.points).toBe(-v1Earned);
      });

      test('a new version cannot change the currency', async () => {
        const m = await newMerchant(server, COFFEE);
        const res = await request(server.app, m.key, PublishProgramDocument, { source: example('grocer.loyalty') });
        expect(res.errors?.[0]?.extensions?.code).toBe('CURRENCY_CHANGE');
      });

      test('checkProgram reports every diagnostic and stores nothing', async () => {
        const m = await newMerchant(server);
        const res = await ok(server.app, m.key, CheckProgramDocument, {
          source: 'program "x" {\n  currency XYZ\n  timezone "Mars/Olympus"\n}\n',
        });
        expect(res.checkProgram.ok).toBe(false);
        expect(res.checkProgram.diagnostics.length).toBeGreaterThanOrEqual(2);
        const good = await ok(server.app, m.key, CheckProgramDocument, { source: COFFEE });
        expect(good.checkProgram).toMatchObject({ ok: true, name: 'Bean & Leaf Rewards' });
        expect((await ok(server.app, m.key, ActiveProgramDocument, {})).program).toBeNull();
      });

      test('writes before any program are NO_ACTIVE_PROGRAM', async () => {
        const m = await newMerchant(server);
        const res = await request(server.app, m.key, SignupDocument, { input: { memberId: 'x' } });
        expect(res.errors?.[0]?.extensions?.code).toBe('NO_ACTIVE_PROGRAM');
      });

      test('simulate equals replay of the same events and writes nothing', async () => {
        const m = await newMerchant(server);
        const jsonl = readFileSync(new URL('coffee-chain.events.jsonl', EXAMPLES), 'utf8');
        const events = jsonl.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as unknown);
        const res = await ok(server.app, m.key, SimulateDocument, { source: COFFEE, events });
        if (res.simulate.__typename !== 'Simulation') throw new Error(JSON.stringify(res));
        const replay = new Replay(compile(COFFEE, 'coffee-chain.loyalty').program!);
        events.forEach((e, i) => replay.pushLine(JSON.stringify(e), i + 1));
        expect(res.simulate.result).toEqual(JSON.parse(JSON.stringify(replay.result())));
        expect(res.simulate.errors.map((e) => e.line)).toEqual(replay.result().errors.map((e) => e.line));
        expect((await ok(server.app, m.key, MembersDocument, {})).members.edges).toEqual([]);
        const invalid = await ok(server.app, m.key, SimulateDocument, { source: 'program {', events: [] });
        expect(invalid.simulate.__typename).toBe('ProgramInvalid');
      });
    });

    describe('members and writes', () => {
      test('signup, then the member explains its points', async () => {
        const m = await coffeeMember('ava');
        const res = await ok(server.app, m.key, MemberDocument, { id: 'ava' });
        const ava = res.member!;
        expect(ava).toMatchObject({ id: 'ava', balance: 100, birthday: '1990-07-14', tier: { name: 'Green' } });
        expect(ava.tier?.progress).toMatchObject({ metric: 'SPEND', value: 0, nextTier: 'Silver', remaining: 25000 });
        expect(ava.tier?.progress?.remainingMoney?.amount).toBe('250.00');
        const ledger = await ok(server.app, m.key, MemberLedgerDocument, { id: 'ava', first: 10 });
        const [entry] = ledger.member!.ledger.edges.map((e) => e.node);
        expect(entry).toMatchObject({ kind: 'EARN', points: 100, rule: 'signup', ref: null, programVersion: { version: 1 } });
        expect(entry!.line).toBeGreaterThan(0);
        expect(entry!.sourceLine).toBe(COFFEE.split('\n')[entry!.line! - 1]!.trim());
        // A member signs up once: the same signup again is a retry, another body a conflict.
        const again = await ok(server.app, m.key, SignupDocument, { input: { memberId: 'ava', birthday: '1990-07-14' } });
        expect(again.signup).toMatchObject({ __typename: 'MemberPayload', replayed: true, points: 100 });
        const other = await request(server.app, m.key, SignupDocument, { input: { memberId: 'ava' } });
        expect(other.errors?.[0]?.extensions?.code).toBe('IDEMPOTENCY_CONFLICT');
      });

      test('recordOrder awards points with provenance; quote predicted them', async () => {
        const m = await coffeeMember();
        const order = { lines: [latte(), { sku: 'CROISSANT', category: 'pastry', qty: 1, price: '3.95' }], channel: 'app', at: '2026-03-02T10:00:00Z' };
        const quote = await ok(server.app, m.key, QuoteDocument, { member: 'm', order });
        const before = await ok(server.app, m.key, MemberDocument, { id: 'm' });
        expect(before.member!.balance).toBe(100); // the quote wrote nothing
        // Why not: Monday 05:00 in New York, an 8.70 app order with no whole beans.
        expect(quote.quote.notApplied.map((n) => [n.rule, n.reason, n.why, n.line])).toEqual([
          ['Afternoon lull', 'CONDITION', '`hours 14:00 to 17:00` does not hold for this order', 20],
          ['Weekend beans', 'CONDITION', '`days sat, sun` does not hold for this order', 32],
          ['App order', 'CONDITION', '`when order.channel == "app" and order.total >= 10 USD` does not hold for this order', 38],
        ]);
        const res = await ok(server.app, m.key, RecordOrderDocument, { input: { memberId: 'm', orderId: 'A-1', ...order } });
        if (res.recordOrder.__typename !== 'RecordOrderPayload') throw new Error(JSON.stringify(res));
        expect(res.recordOrder.replayed).toBe(false);
        expect(res.recordOrder.points).toBe(quote.quote.points);
        expect(res.recordOrder.entries.map((e) => [e.rule, e.points])).toEqual(quote.quote.entries.map((e) => [e.rule, e.points]));
        expect(res.recordOrder.entries.every((e) => e.ref === 'A-1' && e.sourceLine)).toBe(true);
        expect(res.recordOrder.member.balance).toBe(100 + quote.quote.points);
        expect(res.recordOrder.order.total.amount).toBe('8.70');
        const orders = await ok(server.app, m.key, MemberOrdersDocument, { id: 'm', first: 5 });
        expect(orders.member!.orders.edges[0]!.node).toMatchObject({ id: 'A-1', channel: 'app', total: { minorUnits: 870, currency: 'USD' } });
      });

      test('invalid input is BAD_USER_INPUT and writes nothing', async () => {
        const m = await coffeeMember();
        for (const input of [
          { memberId: 'm', orderId: 'x1', lines: [{ ...latte(), price: '4.755' }] },
          { memberId: 'm', orderId: 'x2', lines: [{ ...latte(), qty: 0 }] },
          { memberId: 'm', orderId: 'x3', lines: [] },
          { memberId: 'm', orderId: 'x4', lines: [latte()], at: '2026-03-02 10:00' },
          { memberId: 'm', orderId: 'x'.repeat(201), lines: [latte()] },
          { memberId: 'm', orderId: 'x5', lines: Array.from({ length: 501 }, () => latte()) },
        ]) {
          const res = await request(server.app, m.key, RecordOrderDocument, { input });
          expect(res.errors?.[0]?.extensions?.code, JSON.stringify(input)).toBe('BAD_USER_INPUT');
        }
        const bad = await rawRequest(server.app, { query: 'mutation { recordOrder(input: { memberId: "m" }) { __typename } }' }, m.key);
        expect(bad.errors?.length).toBeGreaterThan(0);
        expect((await ok(server.app, m.key, MemberDocument, { id: 'm' })).member!.balance).toBe(100);
      });

      test('an event earlier than the member\'s last event is refused', async () => {
        const m = await coffeeMember('m', '2026-03-02T09:00:00Z');
        const res = await ok(server.app, m.key, RecordOrderDocument, {
          input: { memberId: 'm', orderId: 'early', lines: [latte()], at: '2026-03-01T09:00:00Z' },
        });
        expect(res.recordOrder).toMatchObject({ __typename: 'EventRefused', code: 'OUT_OF_ORDER', lastEventAt: '2026-03-02T09:00:00Z' });
        const ghost = await ok(server.app, m.key, RecordOrderDocument, { input: { memberId: 'ghost', orderId: 'g', lines: [latte()] } });
        expect(ghost.recordOrder).toMatchObject({ __typename: 'EventRefused', code: 'UNKNOWN_MEMBER', balance: null });
      });

      test('refundOrder reverses the points the refunded lines earned', async () => {
        const m = await coffeeMember();
        await ok(server.app, m.key, RecordOrderDocument, {
          input: { memberId: 'm', orderId: 'R-1', lines: [latte(2), beans(1)], at: '2026-03-03T10:00:00Z' },
        });
        const res = await ok(server.app, m.key, RefundOrderDocument, {
          input: { memberId: 'm', orderId: 'R-1', refundId: 'rf-2', lines: [{ sku: 'WB-ETHIOPIA-12OZ', qty: 1 }], at: '2026-03-04T10:00:00Z' },
        });
        if (res.refundOrder.__typename !== 'MemberPayload') throw new Error(JSON.stringify(res));
        expect(res.refundOrder.entries).toHaveLength(1);
        expect(res.refundOrder.entries[0]).toMatchObject({ kind: 'REVERSE', ref: 'R-1' });
        expect(res.refundOrder.points).toBeLessThan(0);
        const orders = await ok(server.app, m.key, MemberOrdersDocument, { id: 'm' });
        expect(orders.member!.orders.edges[0]!.node.refunds[0]!.lines).toEqual([{ sku: 'WB-ETHIOPIA-12OZ', qty: 1 }]);
        const twice = await ok(server.app, m.key, RefundOrderDocument, {
          input: { memberId: 'm', orderId: 'R-1', refundId: 'rf-3', lines: [{ sku: 'WB-ETHIOPIA-12OZ', qty: 1 }], at: '2026-03-04T11:00:00Z' },
        });
        expect(twice.refundOrder).toMatchObject({ __typename: 'EventRefused', code: 'REFUND_EXCEEDS_ORDER', refundable: 0 });
        const tooMany = await ok(server.app, m.key, RefundOrderDocument, {
          input: { memberId: 'm', orderId: 'R-1', refundId: 'rf-4', lines: [{ sku: 'LATTE-12', qty: 3 }], at: '2026-03-04T11:00:00Z' },
        });
        expect(tooMany.refundOrder).toMatchObject({ code: 'REFUND_EXCEEDS_ORDER', refundable: 2 });
        const unknown = await ok(server.app, m.key, RefundOrderDocument, {
          input: { memberId: 'm', orderId: 'R-404', refundId: 'rf-5', lines: [{ sku: 'LATTE-12', qty: 1 }], at: '2026-03-04T11:00:00Z' },
        });
        expect(unknown.refundOrder).toMatchObject({ code: 'UNKNOWN_ORDER' });
      });

      test('redeemPoints spends points and refuses what the program forbids', async () => {
        const m = await coffeeMember();
        // Refused events still move the member's clock, so every call says when it happened.
        const low = await ok(server.app, m.key, RedeemPointsDocument, { input: { memberId: 'm', points: 150, at: '2026-03-02T10:00:00Z' } });
        expect(low.redeemPoints).toMatchObject({ __typename: 'EventRefused', code: 'BELOW_MINIMUM', requested: 150, required: 200 });
        const tooMany = await ok(server.app, m.key, RedeemPointsDocument, { input: { memberId: 'm', points: 5000, at: '2026-03-02T10:00:00Z' } });
        expect(tooMany.redeemPoints).toMatchObject({ __typename: 'EventRefused', code: 'INSUFFICIENT_POINTS', requested: 5000, balance: 100, max: null });
        await ok(server.app, m.key, RecordOrderDocument, { input: { memberId: 'm', orderId: 'B', lines: [beans(3)], at: '2026-03-03T10:00:00Z' } });
        const overMax = await ok(server.app, m.key, RedeemPointsDocument, { input: { memberId: 'm', points: 400, orderTotal: '5.00', at: '2026-03-03T11:00:00Z' } });
        // 400 points at 100 = 1 USD are worth 4.00 USD; 50% of a 5.00 USD order is 2.50 USD.
        expect(overMax.redeemPoints).toMatchObject({
          __typename: 'EventRefused',
          code: 'ABOVE_MAX_SHARE',
          requested: 400,
          value: { amount: '4.00', currency: 'USD' },
          max: { amount: '2.50', currency: 'USD' },
          message: 'redeem worth 4.00 USD exceeds 50% of the order (at most 2.50 USD)',
        });
        const fine = await ok(server.app, m.key, RedeemPointsDocument, { input: { memberId: 'm', points: 200, at: '2026-03-03T12:00:00Z' } });
        if (fine.redeemPoints.__typename !== 'MemberPayload') throw new Error(JSON.stringify(fine));
        expect(fine.redeemPoints.entries).toMatchObject([{ kind: 'REDEEM', points: -200, rule: null }]);
      });

      test('a write dated by the server shows its own effect: joinClub and cancelClub without `at`', async () => {
        const m = await coffeeMember();
        // The server dates the write when it holds the member's lock, a little
        // after the request began; the payload's member is viewed at that time.
        const join = await ok(server.app, m.key, JoinClubDocument, { input: { memberId: 'm', club: 'Bean Club' } });
        if (join.joinClub.__typename !== 'MemberPayload') throw new Error(JSON.stringify(join));
        expect(join.joinClub.member.activeClubs.map((c) => c.name)).toEqual(['Bean Club']);
        const cancel = await ok(server.app, m.key, CancelClubDocument, { input: { memberId: 'm', club: 'Bean Club' } });
        if (cancel.cancelClub.__typename !== 'MemberPayload') throw new Error(JSON.stringify(cancel));
        expect(cancel.cancelClub.member.activeClubs).toEqual([]);
      });

      test('adjustPoints: an adjust entry with reason and actor, applied once per key, may go below zero', async () => {
        const m = await coffeeMember();
        const before = (await ok(server.app, m.key, MemberDocument, { id: 'm' })).member!.balance;
        const input = { memberId: 'm', points: 50, reason: 'goodwill', idempotencyKey: 'ticket-1', at: '2026-03-03T09:00:00Z' };
        const first = await ok(server.app, m.key, AdjustPointsDocument, { input });
        if (first.adjustPoints.__typename !== 'AdjustPointsPayload') throw new Error(JSON.stringify(first));
        expect(first.adjustPoints.replayed).toBe(false);
        expect(first.adjustPoints.entries).toMatchObject([{ kind: 'ADJUST', points: 50, rule: null, ref: null, reason: 'goodwill' }]);
        expect(first.adjustPoints.entries[0]!.actor).toEqual(expect.any(String));
        expect(first.adjustPoints.member.balance).toBe(before + 50);
        // A retry, `at` spelled in another offset: the first result, nothing written.
        const again = await ok(server.app, m.key, AdjustPointsDocument, { input: { ...input, at: '2026-03-03T10:00:00+01:00' } });
        if (again.adjustPoints.__typename !== 'AdjustPointsPayload') throw new Error(JSON.stringify(again));
        expect(again.adjustPoints.replayed).toBe(true);
        expect(again.adjustPoints.entries.map((e) => e.id)).toEqual(first.adjustPoints.entries.map((e) => e.id));
        expect(again.adjustPoints.member.balance).toBe(before + 50);
        const conflict = await request(server.app, m.key, AdjustPointsDocument, { input: { ...input, points: 60 } });
        expect(conflict.errors?.[0]?.extensions?.code).toBe('IDEMPOTENCY_CONFLICT');
        // Never refused for a known member: it may leave a deficit.
        const down = await ok(server.app, m.key, AdjustPointsDocument, {
          input: { memberId: 'm', points: -(before + 80), reason: 'claw-back', idempotencyKey: 'ticket-2', at: '2026-03-04T09:00:00Z' },
        });
        if (down.adjustPoints.__typename !== 'AdjustPointsPayload') throw new Error(JSON.stringify(down));
        expect(down.adjustPoints.member.balance).toBe(-30);
        for (const bad of [{ points: 0 }, { reason: '  ' }, { idempotencyKey: '' }]) {
          const res = await request(server.app, m.key, AdjustPointsDocument, { input: { ...input, idempotencyKey: 'ticket-3', ...bad } });
          expect(res.errors?.[0]?.extensions?.code, JSON.stringify(bad)).toBe('BAD_USER_INPUT');
        }
        const unknown = await ok(server.app, m.key, AdjustPointsDocument, { input: { ...input, memberId: 'ghost', idempotencyKey: 'ticket-4' } });
        expect(unknown.adjustPoints).toMatchObject({ __typename: 'EventRefused', code: 'UNKNOWN_MEMBER' });
        // Each applied correction is in the audit log once (not the replay, not the refusal).
        const audit = await rawRequest(server.app, { query: '{ auditLog(first: 10, action: "adjustPoints") { edges { node { target details } } } }' }, m.key);
        const logged = (audit as { data: { auditLog: { edges: { node: { target: string; details: { points: number; reason: string } } }[] } } }).data.auditLog.edges;
        expect(logged.map((e) => [e.node.target, e.node.details.points, e.node.details.reason])).toEqual([['m', -(before + 80), 'claw-back'], ['m', 50, 'goodwill']]);
        expect(await balanceMismatches(server.db)).toEqual([]);
      });

      test('rewards: the catalog in program, availability and why not per member, redeemReward once per key with its refusals', async () => {
        const source = [
          'program "Harbor" {',
          '  currency USD',
          '  timezone "America/New_York"',
          '  base 10 points per 1 USD',
          '  tiers {',
          '    tier Member at 0',
          '    tier Silver at 50 USD',
          '  }',
          '  club "Plus" { fee 5 USD per month }',
          '  reward "Free latte" {',
          '    cost 450 points',
          '    when member.tier >= Silver',
          '    limit 1 times per month',
          '    value 4.50 USD',
          '  }',
          '  reward "Mug" { cost 300 points  when member.club "Plus" }',
          '}',
        ].join('\n');
        const m = await newMerchant(server, source);
        const catalog = await ok(server.app, m.key, ProgramRewardsDocument, {});
        expect(catalog.program?.rewards).toEqual([
          { name: 'Free latte', cost: 450, value: { amount: '4.50', currency: 'USD' }, conditions: ['member.tier >= Silver'], limit: 1, limitPeriod: 'month' },
          { name: 'Mug', cost: 300, value: null, conditions: ['member.club "Plus"'], limit: null, limitPeriod: null },
        ]);
        await ok(server.app, m.key, SignupDocument, { input: { memberId: 'cai', at: '2026-04-01T14:00:00Z' } });
        await ok(server.app, m.key, RecordOrderDocument, {
          input: { memberId: 'cai', orderId: 'HR-1', lines: [{ sku: 'BEANS', category: 'beans', qty: 1, price: '30.00' }], at: '2026-04-02T14:00:00Z' },
        });
        const before = await ok(server.app, m.key, MemberRewardsDocument, { id: 'cai', at: '2026-04-03T14:00:00Z' });
        expect(before.member?.rewards.map((r) => [r.name, r.available, r.reason])).toEqual([
          ['Free latte', false, 'REWARD_CONDITION_FALSE'],
          ['Mug', false, 'REWARD_CONDITION_FALSE'],
        ]);
        expect(before.member?.rewards[0]!.condition).toBe('member.tier >= Silver');
        const refused = await ok(server.app, m.key, RedeemRewardDocument, { input: { memberId: 'cai', reward: 'Free latte', idempotencyKey: 'r-0', at: '2026-04-03T14:00:00Z' } });
        expect(refused.redeemReward).toMatchObject({ __typename: 'EventRefused', code: 'REWARD_CONDITION_FALSE' });
        await ok(server.app, m.key, RecordOrderDocument, {
          input: { memberId: 'cai', orderId: 'HR-2', lines: [{ sku: 'BEANS', category: 'beans', qty: 1, price: '70.00' }], at: '2026-04-05T14:00:00Z' },
        });
        const input = { memberId: 'cai', reward: 'Free latte', idempotencyKey: 'r-1', at: '2026-04-06T14:00:00Z' };
        const first = await ok(server.app, m.key, RedeemRewardDocument, { input });
        if (first.redeemReward.__typename !== 'MemberPayload') throw new Error(JSON.stringify(first));
        expect(first.redeemReward.replayed).toBe(false);
        expect(first.redeemReward.entries).toMatchObject([{ kind: 'REDEEM', points: -450, rule: 'reward:Free latte', ref: null }]);
        expect(first.redeemReward.member.balance).toBe(550);
        const again = await ok(server.app, m.key, RedeemRewardDocument, { input });
        if (again.redeemReward.__typename !== 'MemberPayload') throw new Error(JSON.stringify(again));
        expect(again.redeemReward.replayed).toBe(true);
        expect(again.redeemReward.member.balance).toBe(550);
        const conflict = await request(server.app, m.key, RedeemRewardDocument, { input: { ...input, reward: 'Mug' } });
        expect(conflict.errors?.[0]?.extensions?.code).toBe('IDEMPOTENCY_CONFLICT');
        const limited = await ok(server.app, m.key, RedeemRewardDocument, { input: { ...input, idempotencyKey: 'r-2', at: '2026-04-07T14:00:00Z' } });
        expect(limited.redeemReward).toMatchObject({ __typename: 'EventRefused', code: 'REWARD_LIMIT_REACHED' });
        const unknown = await ok(server.app, m.key, RedeemRewardDocument, { input: { ...input, reward: 'Free Latte', idempotencyKey: 'r-3', at: '2026-04-08T14:00:00Z' } });
        expect(unknown.redeemReward).toMatchObject({ __typename: 'EventRefused', code: 'UNKNOWN_REWARD' });
        const after = await ok(server.app, m.key, MemberRewardsDocument, { id: 'cai', at: '2026-04-20T14:00:00Z' });
        expect(after.member?.rewards).toMatchObject([
          { name: 'Free latte', available: false, reason: 'REWARD_LIMIT_REACHED', used: 1, limit: 1, limitPeriod: 'month' },
          { name: 'Mug', available: false, reason: 'REWARD_CONDITION_FALSE' },
        ]);
        // A new calendar month: the latte is available again (balance 550 ≥ 450).
        const may = await ok(server.app, m.key, MemberRewardsDocument, { id: 'cai', at: '2026-05-01T14:00:00Z' });
        expect(may.member?.rewards[0]).toMatchObject({ available: true, reason: null, used: 0 });
        await ok(server.app, m.key, JoinClubDocument, { input: { memberId: 'cai', club: 'Plus', at: '2026-05-02T14:00:00Z' } });
        await ok(server.app, m.key, RedeemRewardDocument, { input: { memberId: 'cai', reward: 'Free latte', idempotencyKey: 'r-4', at: '2026-05-03T14:00:00Z' } });
        const poor = await ok(server.app, m.key, RedeemRewardDocument, { input: { memberId: 'cai', reward: 'Mug', idempotencyKey: 'r-5', at: '2026-05-04T14:00:00Z' } });
        expect(poor.redeemReward).toMatchObject({ __typename: 'EventRefused', code: 'INSUFFICIENT_POINTS', balance: 100, requested: 300 });
        expect(await balanceMismatches(server.db)).toEqual([]);
      });

      test('challenges: the definitions in program, progress per member in the current period, bonuses as order entries, refunds that do not un-count', async () => {
        const source = [
          'program "Kettle" {',
          '  currency USD',
          '  timezone "America/New_York"',
          '  base 1 point per 1 USD',
          '  exclude category "gift-card"',
          '  challenge "Three visits a week" {',
          '    orders 3 per week',
          '    category "coffee"',
          '    bonus 100 points',
          '  }',
          '  challenge "Big month" { spend 20 USD per month  bonus 200 points }',
          '  challenge "First pastry" { orders 1 per member  category "pastry"  bonus 50 points }',
          '}',
        ].join('\n');
        const m = await newMerchant(server, source);
        const defs = await ok(server.app, m.key, ProgramChallengesDocument, {});
        expect(defs.program?.challenges).toEqual([
          { name: 'Three visits a week', goal: 'orders 3 per week', metric: 'orders', orders: 3, spend: null, period: 'week', bonus: 100 },
          { name: 'Big month', goal: 'spend 20 USD per month', metric: 'spend', orders: null, spend: { amount: '20.00', currency: 'USD' }, period: 'month', bonus: 200 },
          { name: 'First pastry', goal: 'orders 1 per member', metric: 'orders', orders: 1, spend: null, period: 'member', bonus: 50 },
        ]);
        await ok(server.app, m.key, SignupDocument, { input: { memberId: 'lia', at: '2026-06-01T12:00:00Z' } });
        const order = (orderId: string, at: string, lines: { sku: string; category: string; qty: number; price: string }[]) =>
          ok(server.app, m.key, RecordOrderDocument, { input: { memberId: 'lia', orderId, lines, at } });
        const coffee = (price: string) => [{ sku: 'LATTE', category: 'coffee', qty: 1, price }];
        const none = await ok(server.app, m.key, MemberChallengesDocument, { id: 'lia', at: '2026-06-01T12:30:00Z' });
        expect(none.member?.challenges.map((c) => [c.name, c.orders, c.spend?.amount ?? null, c.completed])).toEqual([
          ['Three visits a week', 0, null, false],
          ['Big month', null, '0.00', false],
          ['First pastry', 0, null, false],
        ]);
        await order('CK-1', '2026-06-01T13:00:00Z', coffee('5.00'));
        await order('CK-2', '2026-06-02T13:00:00Z', [{ sku: 'GIFT-25', category: 'gift-card', qty: 1, price: '25.00' }]);
        const pastry = await order('CK-3', '2026-06-03T13:00:00Z', [{ sku: 'SCONE', category: 'pastry', qty: 1, price: '3.50' }]);
        if (pastry.recordOrder.__typename !== 'RecordOrderPayload') throw new Error(JSON.stringify(pastry));
        expect(pastry.recordOrder.entries.map((e) => [e.rule, e.points, e.ref])).toEqual([
          ['base', 3, 'CK-3'],
          ['challenge:First pastry', 50, 'CK-3'],
        ]);
        await order('CK-4', '2026-06-04T13:00:00Z', coffee('6.00'));
        const mid = await ok(server.app, m.key, MemberChallengesDocument, { id: 'lia', at: '2026-06-04T14:00:00Z' });
        // Monday 8 June 00:00 in New York is 04:00Z.
        expect(mid.member?.challenges).toEqual([
          { name: 'Three visits a week', goal: 'orders 3 per week', metric: 'orders', period: 'week', bonus: 100, orders: 2, ordersGoal: 3, spend: null, spendGoal: null, completed: false, resetsAt: '2026-06-08T04:00:00Z' },
          // 5.00 + 3.50 + 6.00: the gift card is excluded. 1 July 00:00 EDT is 04:00Z.
          { name: 'Big month', goal: 'spend 20 USD per month', metric: 'spend', period: 'month', bonus: 200, orders: null, ordersGoal: null, spend: { amount: '14.50', currency: 'USD' }, spendGoal: { amount: '20.00', currency: 'USD' }, completed: false, resetsAt: '2026-07-01T04:00:00Z' },
          { name: 'First pastry', goal: 'orders 1 per member', metric: 'orders', period: 'member', bonus: 50, orders: 1, ordersGoal: 1, spend: null, spendGoal: null, completed: true, resetsAt: null },
        ]);
        const third = await order('CK-5', '2026-06-05T13:00:00Z', [{ sku: 'MOCHA', category: 'coffee', qty: 2, price: '4.00' }]);
        if (third.recordOrder.__typename !== 'RecordOrderPayload') throw new Error(JSON.stringify(third));
        expect(third.recordOrder.entries.map((e) => [e.rule, e.points])).toEqual([
          ['base', 8],
          ['challenge:Three visits a week', 100],
          ['challenge:Big month', 200],
        ]);
        // A full refund reverses the base only, and takes nothing back from progress.
        const refund = await ok(server.app, m.key, RefundOrderDocument, { input: { memberId: 'lia', orderId: 'CK-5', refundId: 'rf-ck5', lines: [{ sku: 'MOCHA', qty: 2 }], at: '2026-06-06T18:00:00Z' } });
        if (refund.refundOrder.__typename !== 'MemberPayload') throw new Error(JSON.stringify(refund));
        expect(refund.refundOrder.entries.map((e) => [e.kind, e.points])).toEqual([['REVERSE', -8]]);
        const after = await ok(server.app, m.key, MemberChallengesDocument, { id: 'lia', at: '2026-06-07T12:00:00Z' });
        expect(after.member?.balance).toBe(3 + 5 + 50 + 6 + 8 + 100 + 200 - 8);
        expect(after.member?.challenges.map((c) => [c.orders, c.spend?.amount ?? null, c.completed])).toEqual([
          [3, null, true],
          [null, '22.50', true],
          [1, null, true],
        ]);
        // The next week (Monday 8 June 00:30 New York) starts again; June's spend goes on.
        const week2 = await ok(server.app, m.key, MemberChallengesDocument, { id: 'lia', at: '2026-06-08T04:30:00Z' });
        expect(week2.member?.challenges.map((c) => [c.orders, c.spend?.amount ?? null, c.completed, c.resetsAt])).toEqual([
          [0, null, false, '2026-06-15T04:00:00Z'],
          [null, '22.50', true, '2026-07-01T04:00:00Z'],
          [1, null, true, null],
        ]);
        expect(await balanceMismatches(server.db)).toEqual([]);
      });

      test('clubs: join, perks and multiplier, cancel, history', async () => {
        const m = await coffeeMember();
        const join = await ok(server.app, m.key, JoinClubDocument, { input: { memberId: 'm', club: 'Bean Club', at: '2026-03-03T09:00:00Z' } });
        if (join.joinClub.__typename !== 'MemberPayload') throw new Error(JSON.stringify(join));
        expect(join.joinClub.entries).toMatchObject([{ rule: 'club:Bean Club:join', points: 200 }]);
        const twice = await ok(server.app, m.key, JoinClubDocument, { input: { memberId: 'm', club: 'Bean Club', at: '2026-03-03T09:30:00Z' } });
        expect(twice.joinClub).toMatchObject({ __typename: 'EventRefused', code: 'ALREADY_IN_CLUB' });
        const unknown = await ok(server.app, m.key, JoinClubDocument, { input: { memberId: 'm', club: 'Nope', at: '2026-03-03T09:30:00Z' } });
        expect(unknown.joinClub).toMatchObject({ __typename: 'EventRefused', code: 'UNKNOWN_CLUB' });
        const during = await ok(server.app, m.key, MemberDocument, { id: 'm', clubsAt: '2026-03-10T00:00:00Z' });
        expect(during.member!.clubs).toMatchObject([{ name: 'Bean Club', since: '2026-03-03T09:00:00Z', perks: ['free-refills'] }]);
        const quote = await ok(server.app, m.key, QuoteDocument, { member: 'm', order: { lines: [beans(1)], at: '2026-03-04T09:00:00Z' } });
        expect(quote.quote.discounts[0]).toMatchObject({ sku: 'WB-ETHIOPIA-12OZ', amount: { amount: '2.40' } });
        expect(quote.quote.entries.some((e) => e.rule === 'club:Bean Club')).toBe(true);
        const cancel = await ok(server.app, m.key, CancelClubDocument, { input: { memberId: 'm', club: 'Bean Club', at: '2026-03-05T09:00:00Z' } });
        expect(cancel.cancelClub.__typename).toBe('MemberPayload');
        const after = await ok(server.app, m.key, MemberDocument, { id: 'm', clubsAt: '2026-03-06T00:00:00Z' });
        expect(after.member!.clubs).toEqual([]);
        expect(after.member!.clubHistory).toMatchObject([
          { club: 'Bean Club', since: '2026-03-03T09:00:00Z', until: '2026-03-05T09:00:00Z', cancelledAt: '2026-03-05T09:00:00Z' },
        ]);
      });

      test('tier discounts: in the program\'s tiers, in the member\'s tier, and applied by quote (largest with a club, never added)', async () => {
        const m = await coffeeMember();
        const source = COFFEE.replace('tier Green at 0', 'tier Green at 0 { discount 5% on everything }').replace(
          'tier Silver at 250 USD { multiplier 1.25x',
          'tier Silver at 250 USD { discount 10% on category "espresso", "whole-beans"  multiplier 1.25x',
        );
        const pub = await ok(server.app, m.key, PublishProgramDocument, { source });
        if (pub.publishProgram.__typename !== 'PublishProgramPayload') throw new Error(JSON.stringify(pub));
        const tiers = pub.publishProgram.program.tiers;
        expect(tiers.map((t) => [t.name, t.discounts])).toEqual([
          ['Green', [{ percent: '5', everything: true, categories: null }]],
          ['Silver', [{ percent: '10', everything: false, categories: ['espresso', 'whole-beans'] }]],
          ['Gold', []],
        ]);
        expect(pub.publishProgram.program.clubs[0]!.discounts).toEqual([{ percent: '15', everything: false, categories: ['whole-beans'] }]);
        const member = await ok(server.app, m.key, MemberDocument, { id: 'm' });
        expect(member.member!.tier).toMatchObject({ name: 'Green', discounts: [{ percent: '5', everything: true, categories: null }] });
        // Green 5% on everything: 16.00 − 0.80 = 15.20; 4.75 − 0.2375 → 0.23 = 4.52.
        const plain = await ok(server.app, m.key, QuoteDocument, { member: 'm', order: { lines: [beans(1), latte(1)], at: '2026-03-04T09:00:00Z' } });
        expect(plain.quote.discounts).toMatchObject([
          { sku: 'WB-ETHIOPIA-12OZ', amount: { amount: '0.80' } },
          { sku: 'LATTE-12', amount: { amount: '0.23' } },
        ]);
        expect(plain.quote.total).toMatchObject({ amount: '19.72' });
        expect(plain.quote.entries.find((e) => e.rule === 'base')?.points).toBe(197);
        // With the Bean Club: beans get max(5%, 15%) = 15% (2.40, not 20%), the latte keeps Green's 5%.
        await ok(server.app, m.key, JoinClubDocument, { input: { memberId: 'm', club: 'Bean Club', at: '2026-03-03T09:00:00Z' } });
        const club = await ok(server.app, m.key, QuoteDocument, { member: 'm', order: { lines: [beans(1), latte(1)], at: '2026-03-04T09:00:00Z' } });
        expect(club.quote.discounts).toMatchObject([
          { sku: 'WB-ETHIOPIA-12OZ', amount: { amount: '2.40' } },
          { sku: 'LATTE-12', amount: { amount: '0.23' } },
        ]);
        expect(club.quote.total).toMatchObject({ amount: '18.12' });
      });

      test('referrals: both sides rewarded on the first qualifying order', async () => {
        const m = await coffeeMember('ava');
        const refSelf = await ok(server.app, m.key, SignupDocument, { input: { memberId: 'x', referrerId: 'x', at: '2026-03-02T10:00:00Z' } });
        expect(refSelf.signup.__typename).toBe('EventRefused');
        const refUnknown = await ok(server.app, m.key, SignupDocument, { input: { memberId: 'y', referrerId: 'ghost', at: '2026-03-02T10:00:00Z' } });
        expect(refUnknown.signup.__typename).toBe('EventRefused');
        await ok(server.app, m.key, SignupDocument, { input: { memberId: 'ben', referrerId: 'ava', at: '2026-03-02T10:00:00Z' } });
        const order = await ok(server.app, m.key, RecordOrderDocument, {
          input: { memberId: 'ben', orderId: 'B-1', lines: [beans(1)], at: '2026-03-03T10:00:00Z' },
        });
        if (order.recordOrder.__typename !== 'RecordOrderPayload') throw new Error(JSON.stringify(order));
        const rules = order.recordOrder.entries.map((e) => e.rule);
        expect(rules.at(-1)).toBe('referral:referee');
        expect(rules).not.toContain('referral:referrer');
        // The referrer's reward is reported apart, naming whose it is.
        expect(order.recordOrder.referrerEntries.map((e) => [e.rule, e.memberId, e.points])).toEqual([['referral:referrer', 'ava', 300]]);
        expect(order.recordOrder.points).toBe(order.recordOrder.entries.reduce((s, e) => s + e.points, 0));
        const ava = (await ok(server.app, m.key, MemberDocument, { id: 'ava' })).member!;
        expect(ava.balance).toBe(100 + 300);
        expect(ava.referrals).toMatchObject([{ referee: { id: 'ben' }, rewardOrder: { id: 'B-1' } }]);
        expect(ava.referrals[0]!.rewardedAt).toBe('2026-03-03T10:00:00Z');
        const ben = (await ok(server.app, m.key, MemberDocument, { id: 'ben' })).member!;
        expect(ben.referredBy?.referrer.id).toBe('ava');
      });

      test('recordEvent awards `on event` bonuses within their limit; unknown names write nothing', async () => {
        const m = await coffeeMember();
        const first = await ok(server.app, m.key, RecordEventDocument, { input: { memberId: 'm', name: 'survey', at: '2026-03-05T10:00:00Z' } });
        if (first.recordEvent.__typename !== 'MemberPayload') throw new Error();
        expect(first.recordEvent.points).toBe(50);
        const second = await ok(server.app, m.key, RecordEventDocument, { input: { memberId: 'm', name: 'survey', at: '2026-03-06T10:00:00Z' } });
        if (second.recordEvent.__typename !== 'MemberPayload') throw new Error();
        expect(second.recordEvent.points).toBe(0);
        const other = await ok(server.app, m.key, RecordEventDocument, { input: { memberId: 'm', name: 'unknown-thing', at: '2026-03-06T11:00:00Z' } });
        expect(other.recordEvent.__typename).toBe('MemberPayload');
      });

      test('advanceTime writes what fell due (birthday, expiry) once', async () => {
        // A sandbox: the run goes to 2027, ahead of the server's clock. Birthday 07-14, lots expire after 12 months.
        const m = await coffeeMember('m', '2026-03-02T09:00:00Z', { sandbox: true });
        const first = await ok(server.app, m.key, AdvanceTimeDocument, { at: '2026-08-01T00:00:00Z' });
        expect(first.advanceTime).toMatchObject({ members: 1, entries: 1 });
        const again = await ok(server.app, m.key, AdvanceTimeDocument, { at: '2026-08-01T00:00:00Z' });
        expect(again.advanceTime.entries).toBe(0);
        const expiry = await ok(server.app, m.key, AdvanceTimeDocument, { at: '2027-03-03T00:00:00Z' });
        expect(expiry.advanceTime.entries).toBeGreaterThanOrEqual(1);
        const ledger = await ok(server.app, m.key, MemberLedgerDocument, { id: 'm', first: 10 });
        const kinds = ledger.member!.ledger.edges.map((e) => [e.node.kind, e.node.rule, e.node.points]);
        expect(kinds).toContainEqual(['EARN', 'birthday', 500]);
        expect(kinds).toContainEqual(['EXPIRE', null, -100]);
      });

      test('advanceTime: a member it cannot bring up to date is reported and retried, the others go on', async () => {
        const m = await coffeeMember('a');
        for (const id of ['b', 'c']) await ok(server.app, m.key, SignupDocument, { input: { memberId: id, at: '2026-03-02T10:00:00Z', birthday: '1990-07-14' } });
        // 'b' is in a state the engine cannot read (as a bad migration or a bug would leave it).
        const good = await server.db.prisma.member.findFirstOrThrow({ where: { merchantId: m.id, externalId: 'b' }, select: { state: true } });
        await server.db.prisma.$executeRaw`UPDATE members SET state = '{"v": 999}'::jsonb WHERE merchant_id = ${m.id}::uuid AND external_id = 'b'`;
        const run = await ok(server.app, m.key, AdvanceTimeDocument, { at: '2026-08-01T00:00:00Z' });
        expect(run.advanceTime).toMatchObject({ members: 2, entries: 2, failed: 1 });
        expect(run.advanceTime.failures.map((f) => f.memberId)).toEqual(['b']);
        expect(run.advanceTime.failures[0]!.message.length).toBeGreaterThan(0);
        for (const id of ['a', 'c']) expect((await ok(server.app, m.key, MemberDocument, { id })).member!.balance).toBe(600);
        // Nothing was written for 'b', and it stays due: the next run tries it again; 'a' and 'c' have nothing left to change.
        const b = await server.db.prisma.member.findFirstOrThrow({ where: { merchantId: m.id, externalId: 'b' } });
        expect(b.balance).toBe(100n);
        expect(b.nextDueAt).not.toBeNull();
        const again = await ok(server.app, m.key, AdvanceTimeDocument, { at: '2026-08-01T00:00:00Z' });
        expect(again.advanceTime).toMatchObject({ members: 0, entries: 0, failed: 1 });
        // Once it is repaired (here: its state put back), the next run brings it up to date.
        await server.db.prisma.member.updateMany({ where: { merchantId: m.id, externalId: 'b' }, data: { state: good.state as object } });
        const repaired = await ok(server.app, m.key, AdvanceTimeDocument, { at: '2026-08-01T00:00:00Z' });
        expect(repaired.advanceTime).toMatchObject({ members: 1, entries: 1, failed: 0, failures: [] });
        expect((await ok(server.app, m.key, MemberDocument, { id: 'b' })).member!.balance).toBe(600);
      });
    });

    describe('pending points (dsl.md 4.9)', () => {
      const PENDING = `program "Pending" {
  currency USD
  base 1 point per 1 USD
  pending 14 days
  rule "Scarf bonus" { category "scarf"  bonus 20 points }
  referral { referrer 100 points  referee 5 points }
  redeem { rate 100 points = 1 USD }
}
`;

      test('an order is pending, a refund before vesting reduces it, advanceTime past vesting writes the entries', async () => {
        const m = await newMerchant(server, PENDING, { sandbox: true });
        await ok(server.app, m.key, SignupDocument, { input: { memberId: 'ref', at: '2026-03-01T08:00:00Z' } });
        await ok(server.app, m.key, SignupDocument, { input: { memberId: 'p', at: '2026-03-01T09:00:00Z', referrerId: 'ref' } });
        // COAT 20.00 + SCARF 10.00: base 30, Scarf bonus 20, referee 5, all vesting 15 Mar 10:00Z; ref's 100 too.
        const lines = [
          { sku: 'COAT', category: 'coat', qty: 1, price: '20.00' },
          { sku: 'SCARF', category: 'scarf', qty: 1, price: '10.00' },
        ];
        const input = { memberId: 'p', orderId: 'o1', lines, at: '2026-03-01T10:00:00Z' };
        const order = await ok(server.app, m.key, RecordOrderDocument, { input });
        if (order.recordOrder.__typename !== 'RecordOrderPayload') throw new Error(JSON.stringify(order));
        expect(order.recordOrder.points).toBe(0);
        const vestsAt = '2026-03-15T10:00:00.000Z';
        const shown = await ok(server.app, m.key, MemberPendingDocument, { id: 'p' });
        expect(shown.member).toMatchObject({ balance: 0, pendingPoints: 55 });
        expect(shown.member!.pending.map((v) => ({ ...v, vestsAt: new Date(v.vestsAt as string).toISOString() }))).toEqual([
          { orderId: 'o1', points: 55, vestsAt, byRule: [{ rule: 'base', points: 30 }, { rule: 'Scarf bonus', points: 20 }, { rule: 'referral:referee', points: 5 }] },
        ]);
        expect((await ok(server.app, m.key, MemberPendingDocument, { id: 'ref' })).member).toMatchObject({ balance: 0, pendingPoints: 100 });
        // The coat back: floor(50 × 20.00 / 30.00) = 33, off the base (30 → 0) then the bonus (20 → 17); no entry.
        const refund = await ok(server.app, m.key, RefundOrderDocument, { input: { memberId: 'p', orderId: 'o1', refundId: 'r1', lines: [{ sku: 'COAT', qty: 1 }], at: '2026-03-02T10:00:00Z' } });
        if (refund.refundOrder.__typename !== 'MemberPayload') throw new Error(JSON.stringify(refund));
        expect(refund.refundOrder.points).toBe(0);
        const reduced = await ok(server.app, m.key, MemberPendingDocument, { id: 'p' });
        expect(reduced.member).toMatchObject({ balance: 0, pendingPoints: 22 });
        expect(reduced.member!.pending[0]!.byRule).toEqual([{ rule: 'base', points: 0 }, { rule: 'Scarf bonus', points: 17 }, { rule: 'referral:referee', points: 5 }]);
        // Pending points cannot be redeemed.
        const early = await ok(server.app, m.key, RedeemPointsDocument, { input: { memberId: 'p', points: 10, at: '2026-03-03T10:00:00Z' } });
        expect(early.redeemPoints).toMatchObject({ __typename: 'EventRefused', code: 'INSUFFICIENT_POINTS', balance: 0 });
        // advanceTime past the vesting instant writes p's 17 + 5 and ref's 100, dated at the vesting.
        const run = await ok(server.app, m.key, AdvanceTimeDocument, { at: '2026-03-16T00:00:00Z' });
        expect(run.advanceTime).toMatchObject({ members: 2, entries: 3, failed: 0 });
        const after = await ok(server.app, m.key, MemberPendingDocument, { id: 'p' });
        expect(after.member).toMatchObject({ balance: 22, pendingPoints: 0, pending: [] });
        expect((await ok(server.app, m.key, MemberPendingDocument, { id: 'ref' })).member).toMatchObject({ balance: 100, pendingPoints: 0 });
        const ledger = await ok(server.app, m.key, MemberLedgerDocument, { id: 'p', first: 10 });
        expect(ledger.member!.ledger.edges.map((e) => [new Date(e.node.at as string).toISOString(), e.node.kind, e.node.points, e.node.rule, e.node.ref]).reverse()).toEqual([
          [vestsAt, 'EARN', 17, 'Scarf bonus', 'o1'],
          [vestsAt, 'EARN', 5, 'referral:referee', 'o1'],
        ]);
        // The vested entries point at their order's row, like entries written at an order.
        const rows = await server.db.prisma.ledgerEntry.findMany({ where: { merchantId: m.id, ref: 'o1' }, select: { orderId: true } });
        const o1 = await server.db.prisma.order.findFirstOrThrow({ where: { merchantId: m.id, externalId: 'o1' }, select: { id: true } });
        expect(rows.map((r) => r.orderId)).toEqual([o1.id, o1.id, o1.id]);
        // A retry of the order still answers what the order itself wrote (nothing, at the order).
        const retry = await ok(server.app, m.key, RecordOrderDocument, { input });
        expect(retry.recordOrder).toMatchObject({ __typename: 'RecordOrderPayload', replayed: true, points: 0 });
        // After vesting a refund is a normal reverse: floor(50 × 30 / 30) − 33 = 17.
        const late = await ok(server.app, m.key, RefundOrderDocument, { input: { memberId: 'p', orderId: 'o1', refundId: 'r2', lines: [{ sku: 'SCARF', qty: 1 }], at: '2026-03-20T10:00:00Z' } });
        expect(late.refundOrder).toMatchObject({ __typename: 'MemberPayload', points: -17 });
        expect((await ok(server.app, m.key, MemberPendingDocument, { id: 'p' })).member!.balance).toBe(5);
      });
    });

    describe('idempotency and concurrency', () => {
      test('50 concurrent recordOrder calls with the same id make one effect', async () => {
        const m = await coffeeMember();
        const input = { memberId: 'm', orderId: 'SAME', lines: [latte(), beans(2)], at: '2026-03-03T10:00:00Z' };
        const results = await Promise.all(Array.from({ length: 50 }, () => request(server.app, m.key, RecordOrderDocument, { input })));
        expect(results.filter((r) => r.errors)).toEqual([]);
        const payloads = results.map((r) => r.data!.recordOrder);
        expect(payloads.filter((p) => p.__typename !== 'RecordOrderPayload')).toEqual([]);
        const fresh = payloads.filter((p) => p.__typename === 'RecordOrderPayload' && !p.replayed);
        expect(fresh).toHaveLength(1);
        const points = new Set(payloads.map((p) => (p.__typename === 'RecordOrderPayload' ? p.points : -1)));
        expect(points.size).toBe(1);
        const member = (await ok(server.app, m.key, MemberDocument, { id: 'm' })).member!;
        expect(member.balance).toBe(100 + [...points][0]!);
        const ledger = await ok(server.app, m.key, MemberLedgerDocument, { id: 'm', first: 100 });
        const firstEntries = fresh[0]!.__typename === 'RecordOrderPayload' ? fresh[0]!.entries.length : -1;
        expect(ledger.member!.ledger.edges.filter((e) => e.node.ref === 'SAME').length).toBe(firstEntries);

        // After a refund, a retry still answers with the order's own entries.
        await ok(server.app, m.key, RefundOrderDocument, {
          input: { memberId: 'm', orderId: 'SAME', refundId: 'rf-6', lines: [{ sku: 'LATTE-12', qty: 1 }], at: '2026-03-03T11:00:00Z' },
        });
        const retry = await ok(server.app, m.key, RecordOrderDocument, { input });
        if (retry.recordOrder.__typename !== 'RecordOrderPayload') throw new Error(JSON.stringify(retry));
        expect(retry.recordOrder).toMatchObject({ replayed: true, points: [...points][0] });
        expect(retry.recordOrder.entries.every((e) => e.kind === 'EARN')).toBe(true);

        const conflict = await request(server.app, m.key, RecordOrderDocument, { input: { ...input, lines: [latte(3)] } });
        expect(conflict.errors?.[0]?.extensions).toMatchObject({ code: 'IDEMPOTENCY_CONFLICT', orderId: 'SAME' });
        const otherMember = await request(server.app, m.key, RecordOrderDocument, { input: { ...input, memberId: 'someone-else' } });
        expect(otherMember.errors?.[0]?.extensions?.code).toBe('IDEMPOTENCY_CONFLICT');
      });

      test('200 concurrent redemptions never take the balance below what the engine allows', async () => {
        const m = await coffeeMember();
        // 100 signup + a big order: enough for some redemptions of 200, not all.
        await ok(server.app, m.key, RecordOrderDocument, {
          input: { memberId: 'm', orderId: 'BIG', lines: [beans(10)], at: '2026-03-03T10:00:00Z' },
        });
        const start = (await ok(server.app, m.key, MemberDocument, { id: 'm' })).member!.balance;
        const results = await Promise.all(
          Array.from({ length: 200 }, () =>
            request(server.app, m.key, RedeemPointsDocument, { input: { memberId: 'm', points: 200, at: '2026-03-04T10:00:00Z' } }),
          ),
        );
        const accepted = results.filter((r) => r.data?.redeemPoints.__typename === 'MemberPayload').length;
        const refused = results.filter((r) => r.data?.redeemPoints.__typename === 'EventRefused').length;
        expect(accepted + refused).toBe(200);
        expect(accepted).toBe(Math.floor(start / 200));
        const end = (await ok(server.app, m.key, MemberDocument, { id: 'm' })).member!.balance;
        expect(end).toBe(start - accepted * 200);
        expect(end).toBeGreaterThanOrEqual(0);
      });
    });

    describe('concurrent refunds and the time of a write', () => {
      test('20 concurrent full refunds of one order: exactly one is accepted', async () => {
        const m = await coffeeMember();
        await ok(server.app, m.key, RecordOrderDocument, {
          input: { memberId: 'm', orderId: 'FULL', lines: [latte(2), beans(1)], at: '2026-03-03T10:00:00Z' },
        });
        const before = (await ok(server.app, m.key, MemberDocument, { id: 'm' })).member!.balance;
        const input = {
          memberId: 'm',
          orderId: 'FULL',
          lines: [{ sku: 'LATTE-12', qty: 2 }, { sku: 'WB-ETHIOPIA-12OZ', qty: 1 }],
          at: '2026-03-04T10:00:00Z',
        };
        // 20 refunds (each its own refundId) race: one takes the points back, the others find nothing left.
        const results = await Promise.all(Array.from({ length: 20 }, (_, i) => ok(server.app, m.key, RefundOrderDocument, { input: { ...input, refundId: `full-${i}` } })));
        const accepted = results.filter((r) => r.refundOrder.__typename === 'MemberPayload');
        expect(accepted).toHaveLength(1);
        expect(results.filter((r) => r.refundOrder.__typename === 'EventRefused')).toHaveLength(19);
        // One refund sent 10 times at once (a client's retries): applied once, the others get its first result.
        const again = await Promise.all(Array.from({ length: 10 }, () => ok(server.app, m.key, RefundOrderDocument, { input: { ...input, refundId: 'full-0' } })));
        const first = results[0]!.refundOrder;
        for (const r of again) {
          expect(r.refundOrder.__typename).toBe(first.__typename);
          if (r.refundOrder.__typename === 'MemberPayload') expect(r.refundOrder.replayed).toBe(true);
        }
        const after = (await ok(server.app, m.key, MemberDocument, { id: 'm' })).member!.balance;
        expect(after).toBe(100); // the signup bonus: the order's points are taken back once
        expect(before - after).toBe(-(accepted[0]!.refundOrder.__typename === 'MemberPayload' ? accepted[0]!.refundOrder.points : 0));
      });

      test('concurrent refunds of two lines of one order both count', async () => {
        const m = await coffeeMember();
        await ok(server.app, m.key, RecordOrderDocument, {
          input: { memberId: 'm', orderId: 'TWO', lines: [latte(1), beans(1)], at: '2026-03-03T10:00:00Z' },
        });
        let refunds = 0;
        const refund = (sku: string) =>
          ok(server.app, m.key, RefundOrderDocument, { input: { memberId: 'm', orderId: 'TWO', refundId: `two-${++refunds}`, lines: [{ sku, qty: 1 }], at: '2026-03-04T10:00:00Z' } });
        const both = await Promise.all([refund('LATTE-12'), refund('WB-ETHIOPIA-12OZ')]);
        expect(both.map((r) => r.refundOrder.__typename)).toEqual(['MemberPayload', 'MemberPayload']);
        const orders = await ok(server.app, m.key, MemberOrdersDocument, { id: 'm' });
        expect(orders.member!.orders.edges[0]!.node.refunds.flatMap((r) => r.lines.map((l) => l.sku)).sort()).toEqual(['LATTE-12', 'WB-ETHIOPIA-12OZ']);
        // Nothing is left to refund: a lost update would leave one line refundable again.
        for (const sku of ['LATTE-12', 'WB-ETHIOPIA-12OZ']) expect((await refund(sku)).refundOrder.__typename).toBe('EventRefused');
        expect((await ok(server.app, m.key, MemberDocument, { id: 'm' })).member!.balance).toBe(100);
      });

      test('bursts of writes without `at` for one member are never refused as out of order', async () => {
        const m = await coffeeMember();
        for (let burst = 0; burst < 5; burst++) {
          const results = await Promise.all(
            Array.from({ length: 4 }, (_, i) =>
              ok(server.app, m.key, RecordOrderDocument, { input: { memberId: 'm', orderId: `B-${burst}-${i}`, lines: [latte()] } }),
            ),
          );
          expect(results.map((r) => r.recordOrder.__typename)).toEqual(Array(4).fill('RecordOrderPayload'));
        }
      });

      test('an `at` more than the allowed skew ahead of now is BAD_USER_INPUT, in every write and advanceTime', async () => {
        const m = await coffeeMember();
        const ahead = new Date(Date.now() + 3_600_000).toISOString();
        const soon = new Date(Date.now() + 60_000).toISOString();
        const refused = [
          await request(server.app, m.key, RecordOrderDocument, { input: { memberId: 'm', orderId: 'F-1', lines: [latte()], at: ahead } }),
          await request(server.app, m.key, RecordOrderDocument, { input: { memberId: 'm', orderId: 'F-2', lines: [latte()], at: '9000-01-01T00:00:00Z' } }),
          await request(server.app, m.key, SignupDocument, { input: { memberId: 'n', at: ahead } }),
          await request(server.app, m.key, RedeemPointsDocument, { input: { memberId: 'm', points: 50, at: ahead } }),
          await request(server.app, m.key, RecordEventDocument, { input: { memberId: 'm', name: 'review', at: ahead } }),
          await request(server.app, m.key, JoinClubDocument, { input: { memberId: 'm', club: 'Bean Club', at: ahead } }),
          await request(server.app, m.key, RefundOrderDocument, { input: { memberId: 'm', orderId: 'F-1', refundId: 'rf-8', lines: [{ sku: 'LATTE-12', qty: 1 }], at: ahead } }),
          await request(server.app, m.key, AdvanceTimeDocument, { at: '9999-12-31T23:59:59Z' }),
        ];
        for (const res of refused) {
          expect(res.data ?? null).toBeNull();
          expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
          expect(res.errors?.[0]?.message).toContain('in the future');
        }
        // Nothing moved the member's clock: a write dated now, and one a minute ahead (within the skew), go through.
        const now = await ok(server.app, m.key, RecordOrderDocument, { input: { memberId: 'm', orderId: 'F-3', lines: [latte()] } });
        expect(now.recordOrder.__typename).toBe('RecordOrderPayload');
        const skewed = await ok(server.app, m.key, RecordOrderDocument, { input: { memberId: 'm', orderId: 'F-4', lines: [latte()], at: soon } });
        expect(skewed.recordOrder.__typename).toBe('RecordOrderPayload');
      });

      test('a sandbox merchant may move its clock freely', async () => {
        const m = await coffeeMember('m', '2026-03-02T09:00:00Z', { sandbox: true });
        const later = await ok(server.app, m.key, RecordOrderDocument, { input: { memberId: 'm', orderId: 'S-1', lines: [latte()], at: '2030-01-01T00:00:00Z' } });
        expect(later.recordOrder.__typename).toBe('RecordOrderPayload');
        expect((await ok(server.app, m.key, AdvanceTimeDocument, { at: '2031-01-01T00:00:00Z' })).advanceTime.at).toBe('2031-01-01T00:00:00Z');
      });
    });

    describe('reads', () => {
      test('members: Relay pagination in sign-up order and a tier filter', async () => {
        const m = await newMerchant(server, COFFEE);
        for (let i = 0; i < 7; i++) {
          await ok(server.app, m.key, SignupDocument, { input: { memberId: `p${i}`, at: `2026-03-0${i + 1}T09:00:00Z` } });
        }
        await ok(server.app, m.key, RecordOrderDocument, {
          input: { memberId: 'p3', orderId: 'rich', lines: [beans(20)], at: '2026-03-09T10:00:00Z' },
        });
        const seen: string[] = [];
        let after: string | null = null;
        for (;;) {
          const page: MembersQuery = await ok(server.app, m.key, MembersDocument, { first: 3, after });
          seen.push(...page.members.edges.map((e) => e.node.id));
          expect(page.members.totalCount).toBe(7);
          if (!page.members.pageInfo.hasNextPage) break;
          after = page.members.pageInfo.endCursor ?? null;
        }
        expect(seen).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6']);
        const silver = await ok(server.app, m.key, MembersDocument, { first: 10, tier: 'Silver' });
        expect(silver.members.edges.map((e) => e.node.id)).toEqual(['p3']);
        expect(silver.members.totalCount).toBe(1);
        const ledger = await ok(server.app, m.key, MemberLedgerDocument, { id: 'p3', first: 1 });
        expect(ledger.member!.ledger.edges).toHaveLength(1);
        const stored = await server.db.prisma.ledgerEntry.count({ where: { member: { merchantId: m.id, externalId: 'p3' } } });
        expect(stored).toBeGreaterThan(1);
        expect(ledger.member!.ledger.totalCount).toBe(stored);
        const order = await ok(server.app, m.key, OrderDocument, { id: 'rich' });
        expect(order.order).toMatchObject({ id: 'rich', member: { id: 'p3' }, total: { amount: '320.00' }, lines: [{ sku: 'WB-ETHIOPIA-12OZ', qty: 20 }] });
        expect((await ok(server.app, m.key, OrderDocument, { id: 'nope' })).order).toBeNull();
        const tooBig = await request(server.app, m.key, MembersDocument, { first: 1000 });
        expect(tooBig.errors?.length ?? 0).toBe(0);
        expect(tooBig.data?.members.edges.length).toBe(7);
      });

      test('a tier filter must name a tier; a malformed `at` is BAD_USER_INPUT', async () => {
        const m = await coffeeMember();
        for (const tier of ['silver', 'Platinum']) {
          const res = await request(server.app, m.key, MembersDocument, { first: 10, tier });
          expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', tiers: ['Green', 'Silver', 'Gold'] });
          expect(res.errors?.[0]?.message).toContain('"Silver"');
        }
        for (const at of ['garbage', '2026-02-30T10:00:00Z', '2026-03-01T10:00:00']) {
          const res = await rawRequest(server.app, { query: `{ member(id: "m") { clubs(at: ${JSON.stringify(at)}) { name } } }` }, m.key);
          expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
          expect(res.errors?.[0]?.message).toContain(at);
        }
        const fine = await rawRequest(server.app, { query: '{ member(id: "m") { clubs(at: "2026-03-05T10:00:00+01:00") { name } } }' }, m.key);
        expect(fine.errors).toBeUndefined();
      });

      test('N+1: members(first: N) { ledger(first: 10) tier } costs the same SQL for 5 and 50 members', async () => {
        const m = await newMerchant(server, COFFEE);
        for (let i = 0; i < 50; i++) {
          const id = `n${String(i).padStart(2, '0')}`;
          await ok(server.app, m.key, SignupDocument, { input: { memberId: id, at: '2026-03-02T09:00:00Z' } });
          await ok(server.app, m.key, RecordOrderDocument, {
            input: { memberId: id, orderId: `o-${id}`, lines: [latte(), beans(1)], at: '2026-03-03T10:00:00Z' },
          });
        }
        const count = async (first: number) => {
          const before = server.db.statements();
          const res = await ok(server.app, m.key, MembersWithLedgerDocument, { first });
          const used = server.db.statements() - before;
          expect(res.members.edges).toHaveLength(first);
          expect(res.members.edges.every((e) => e.node.tier?.name === 'Green' && e.node.ledger.edges.length >= 2)).toBe(true);
          return used;
        };
        const small = await count(5);
        const large = await count(50);
        console.log(`[${backend}] SQL statements: members(first: 5) = ${small}, members(first: 50) = ${large}`);
        expect(large).toBe(small);
        expect(large).toBeLessThanOrEqual(6);
      });

      test('ledger pagination walks every entry once, newest first', async () => {
        const m = await coffeeMember();
        for (let i = 0; i < 6; i++) {
          await ok(server.app, m.key, RecordOrderDocument, {
            input: { memberId: 'm', orderId: `L${i}`, lines: [latte()], at: `2026-03-1${i}T10:00:00Z` },
          });
        }
        const all: string[] = [];
        let after: string | null = null;
        for (;;) {
          const page: MemberLedgerQuery = await ok(server.app, m.key, MemberLedgerDocument, { id: 'm', first: 4, after });
          all.push(...page.member!.ledger.edges.map((e) => e.node.id));
          if (!page.member!.ledger.pageInfo.hasNextPage) break;
          after = page.member!.ledger.pageInfo.endCursor ?? null;
        }
        expect(new Set(all).size).toBe(all.length);
        expect(all.map(BigInt)).toEqual([...all.map(BigInt)].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0)));
        const stored = await server.db.prisma.ledgerEntry.count({ where: { member: { merchantId: m.id, externalId: 'm' } } });
        expect(all.length).toBe(stored);
        expect(stored).toBeGreaterThan(6);
      });
    });

    describe('hardening', () => {
      test('amounts: 64-bit totals, limits refused with BAD_USER_INPUT, points within GraphQL Int', async () => {
        const m = await coffeeMember();
        const big = { sku: 'ESPRESSO-MACHINE', category: 'equipment', qty: 1, price: '21474836.48' };
        // 2,147,483,648 cents: one more than a 32-bit column holds.
        const order = await ok(server.app, m.key, RecordOrderDocument, { input: { memberId: 'm', orderId: 'BIG', lines: [big], at: '2026-03-03T10:00:00Z' } });
        if (order.recordOrder.__typename !== 'RecordOrderPayload') throw new Error(JSON.stringify(order));
        expect(order.recordOrder.points).toBeGreaterThanOrEqual(214_748_364);
        const orders = await ok(server.app, m.key, MemberOrdersDocument, { id: 'm' });
        expect(orders.member!.orders.edges[0]!.node.total).toMatchObject({ amount: '21474836.48' });
        const balance = (await ok(server.app, m.key, MemberDocument, { id: 'm' })).member!.balance;
        const refused = [
          { lines: [{ ...big, price: '100000000.01' }], limit: 'lines.0.price 100000000.01 USD is above the limit of 100000000.00 USD' },
          { lines: [{ ...big, price: '1.00', qty: 1_000_001 }], limit: 'lines.0.qty 1000001 is above the limit of 1000000' },
          { lines: Array.from({ length: 101 }, (_, i) => ({ ...big, sku: `M-${i}`, price: '99999999.99' })), limit: 'above the limit of 10000000000.00 USD' },
          // 2.5 billion points: more than a balance may hold.
          { lines: [{ ...big, price: '50000000.00', qty: 5 }], limit: 'beyond the limit of 2147483647' },
        ];
        for (const [i, { lines, limit }] of refused.entries()) {
          const res = await request(server.app, m.key, RecordOrderDocument, { input: { memberId: 'm', orderId: `X-${i}`, lines, at: '2026-03-04T10:00:00Z' } });
          expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
          expect(res.errors?.[0]?.message).toContain(limit);
        }
        const redeem = await request(server.app, m.key, RedeemPointsDocument, { input: { memberId: 'm', points: 200, orderTotal: '10000000000.01', at: '2026-03-04T10:00:00Z' } });
        expect(redeem.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
        // Nothing of the refused writes was stored.
        expect((await ok(server.app, m.key, MemberDocument, { id: 'm' })).member!.balance).toBe(balance);
        expect(await server.db.prisma.order.count({ where: { merchantId: m.id } })).toBe(1);
      });

      test('depth, alias and size limits; complexity; health', async () => {
        const m = await newMerchant(server, COFFEE);
        let deep = 'id';
        for (let i = 0; i < 8; i++) deep = `referredBy { referrer { ${deep} } }`;
        const tooDeep = await rawRequest(server.app, { query: `{ member(id: "x") { ${deep} } }` }, m.key);
        expect(tooDeep.errors?.[0]?.message).toMatch(/depth/i);
        const aliases = Array.from({ length: 30 }, (_, i) => `a${i}: merchant { id }`).join(' ');
        const tooManyAliases = await rawRequest(server.app, { query: `{ ${aliases} }` }, m.key);
        expect(tooManyAliases.errors?.[0]?.message).toMatch(/alias/i);
        const costly = await rawRequest(
          server.app,
          { query: '{ members(first: 100) { edges { node { ledger(first: 100) { edges { node { order { entries { member { id } } } } } } } } } }' },
          m.key,
        );
        expect(costly.errors?.[0]?.message).toMatch(/complexity/i);
        const huge = await rawRequest(server.app, { query: '{ merchant { id } }', variables: { pad: 'x'.repeat(300_000) } }, m.key);
        expect(huge.status).toBe(413);
        const health = await server.app.fetch('http://loyalty.test/health');
        expect(health.status).toBe(200);
      });

      test('unexpected failures are masked for the client and logged', async () => {
        const m = await newMerchant(server, COFFEE);
        // A stored version that no longer compiles is a server bug, not the client's.
        await server.db.prisma.programVersion.updateMany({ where: { merchantId: m.id }, data: { active: false } });
        await server.db.prisma.programVersion.create({
          data: { merchantId: m.id, version: 99, name: 'broken', source: 'program {', hash: 'x', currency: 'USD', active: true },
        });
        const res = await rawRequest(server.app, { query: '{ program { tiers { name } } }' }, m.key);
        expect(res.errors?.[0]).toMatchObject({ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
        expect(JSON.stringify(res)).not.toContain('no longer compiles');
        expect(server.masked).toHaveLength(1);
        expect(String(server.masked[0])).toContain('no longer compiles');
        server.masked.length = 0;
      });
    });

    describe('example fixtures through the API equal `loyalty replay`', () => {
      const names = readdirSync(EXAMPLES)
        .filter((f) => f.endsWith('.events.jsonl'))
        .map((f) => f.replace(/\.events\.jsonl$/, ''));

      test.each(names)('%s', async (name) => {
        const source = readFileSync(new URL(`${name}.loyalty`, EXAMPLES), 'utf8');
        const jsonl = readFileSync(new URL(`${name}.events.jsonl`, EXAMPLES), 'utf8');
        const m = await newMerchant(server, source, { sandbox: true }); // the fixtures run into 2028
        const program = compile(source, `${name}.loyalty`).program!;
        const api = await feedFixture(server.app, m.key, jsonl, { pending: program.pending !== null });
        const replay = new Replay(program);
        jsonl.split('\n').forEach((line, i) => replay.pushLine(line, i + 1));
        const expected = replay.result();
        expect(api.members).toEqual(JSON.parse(JSON.stringify(expected.members)));
        expect(api.errorLines).toEqual(expected.errors.map((e) => e.line));
        // and replay itself matches the committed expectation
        const committed = JSON.parse(readFileSync(new URL(`${name}.expected.json`, EXAMPLES), 'utf8')) as typeof expected;
        expect(api.members).toEqual(committed.members);
      });
    });
  });
}
