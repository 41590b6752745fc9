// previewProgram (issue 8): a draft against the merchant's recorded history,
// compared with the active program by the engine's ProgramDiff over the
// export (GET /events.jsonl); nothing is written. On embedded PGlite and on
// a real PostgreSQL.
import { describe, expect, test } from 'vitest';
import { compile } from '../../dsl/index.ts';
import { diffPrograms } from '../../src/engine/index.ts';
import { example, newMerchant, ok, request, verifiedServer, type Backend, type TestServer } from './client.ts';
import { feedFixture } from './fixtures.ts';
import { PreviewProgramDocument, RecordOrderDocument, SignupDocument, type PreviewProgramQuery } from './generated/operations.ts';

const COFFEE = example('coffee-chain.loyalty');
type Preview = Extract<PreviewProgramQuery['previewProgram'], { __typename: 'ProgramPreview' }>;

function preview(backend: Backend) {
  describe(`previewProgram on ${backend}`, { timeout: 120_000 }, () => {
    let server: TestServer;
    verifiedServer(backend, (s) => (server = s), { eachTest: true });

    /** What a merchant has stored: nothing of it may change in a preview. */
    const stored = async (merchantId: string) => {
      const p = server.db.prisma;
      const where = { merchantId };
      return {
        events: await p.event.count({ where }),
        ledger: await p.ledgerEntry.count({ where }),
        members: await p.member.findMany({ where, select: { externalId: true, balance: true, tier: true, version: true }, orderBy: { externalId: 'asc' } }),
        versions: await p.programVersion.count({ where }),
        audit: await p.auditEntry.count({ where }),
      };
    };

    const run = async (key: string, variables: { source: string; from?: string; to?: string; first?: number; after?: string; tier?: string }): Promise<Preview> => {
      const res = await ok(server.app, key, PreviewProgramDocument, { first: 100, ...variables });
      if (res.previewProgram.__typename !== 'ProgramPreview') throw new Error(`not a preview: ${JSON.stringify(res.previewProgram)}`);
      return res.previewProgram;
    };

    /** The export as `loyalty replay` reads it. */
    const exportOf = async (key: string) => {
      const res = await server.app.fetch('http://loyalty.test/events.jsonl', { headers: { authorization: `Bearer ${key}` } });
      return (await res.text()).split('\n');
    };

    test('the active program against itself changes nothing, and nothing is written', async () => {
      const m = await newMerchant(server, COFFEE, { sandbox: true });
      await feedFixture(server.app, m.key, example('coffee-chain.events.jsonl'));
      const before = await stored(m.id);
      const p = await run(m.key, { source: COFFEE });
      expect(p.events).toBeGreaterThan(20);
      expect(p.after).toEqual(p.before);
      expect(p.changed).toEqual({ members: 0, balance: 0, tier: 0, clubs: 0 });
      expect(p.members.totalCount).toBe(0);
      expect(p.members.edges).toEqual([]);
      expect(p.tierMatrix.every((c) => c.from === c.to)).toBe(true);
      expect(p.tierMatrix.reduce((n, c) => n + c.members, 0)).toBe(p.before.members);
      // The active program over the export gives what the server stored (one version, as written).
      const members = Object.fromEntries(before.members.map((x) => [x.externalId, Number(x.balance)]));
      expect(p.before.outstanding).toBe(Object.values(members).reduce((a, b) => a + b, 0));
      expect(await stored(m.id)).toEqual(before);
    });

    test('a bigger base rate: the hand-computed change, by rule, with its liability', async () => {
      const m = await newMerchant(server, COFFEE);
      for (const id of ['ava', 'ben']) await ok(server.app, m.key, SignupDocument, { input: { memberId: id, at: '2026-03-02T09:00:00Z' } });
      // Tuesday 05:00 in New York: no afternoon, no coffee, no pastry; 10 USD of sandwich.
      const lines = [{ sku: 'EGG-SANDWICH', category: 'food', qty: 1, price: '10.00' }];
      await ok(server.app, m.key, RecordOrderDocument, { input: { memberId: 'ava', orderId: 'A-1', lines, at: '2026-03-03T10:00:00Z' } });
      const before = await stored(m.id);
      const draft = COFFEE.replace('base 10 points per 1 USD', 'base 20 points per 1 USD');
      const p = await run(m.key, { source: draft });
      // Before: 100 (signup) each, + 100 base for ava; after: ava's base doubles.
      expect(p.before).toMatchObject({ members: 2, earned: 300, outstanding: 300, outstandingValue: { amount: '3.00', minorUnits: 300, currency: 'USD' } });
      expect(p.after).toMatchObject({ members: 2, earned: 400, outstanding: 400, outstandingValue: { amount: '4.00', minorUnits: 400, currency: 'USD' } });
      const base = (t: Preview['before']) => t.earnedByRule.find((r) => r.rule === 'base')?.points;
      expect([base(p.before), base(p.after)]).toEqual([100, 200]);
      expect(p.changed).toMatchObject({ members: 1, balance: 1, tier: 0, clubs: 0 });
      expect(p.tierMatrix).toEqual([{ from: 'Green', to: 'Green', members: 2 }]);
      expect(p.members.totalCount).toBe(1);
      const ava = p.members.edges[0]!.node;
      expect(ava).toMatchObject({ id: 'ava', balanceChange: 100, before: { balance: 200, tier: 'Green' }, after: { balance: 300, tier: 'Green' } });
      expect(ava.after.pointsByRule.find((r) => r.rule === 'base')?.points).toBe(200);
      // From after the order: the draft changes nothing already earned.
      const later = await run(m.key, { source: draft, from: '2026-03-04T00:00:00Z' });
      expect(later.from).toBe('2026-03-04T00:00:00Z');
      expect(later.changed.members).toBe(0);
      // Up to before the order: only the signups.
      const early = await run(m.key, { source: draft, to: '2026-03-03T00:00:00Z' });
      expect([early.events, early.before.earned, early.changed.members]).toEqual([2, 200, 0]);
      expect(await stored(m.id)).toEqual(before);
    });

    test('a lower Silver threshold and a bigger base rate on the coffee fixture give what diffPrograms gives over the export', async () => {
      const m = await newMerchant(server, COFFEE, { sandbox: true });
      await feedFixture(server.app, m.key, example('coffee-chain.events.jsonl'));
      const before = await stored(m.id);
      const draft = COFFEE.replace('tier Silver at 250 USD', 'tier Silver at 40 USD').replace('base 10 points per 1 USD', 'base 12 points per 1 USD');
      const expected = diffPrograms(compile(COFFEE, 'a.loyalty').program!, compile(draft, 'b.loyalty').program!, await exportOf(m.key));
      // loyalty diff of the fixture itself: 3 members change, 2 of them Green → Silver.
      expect(expected.totals.changed).toMatchObject({ members: 3, tier: 2 });
      expect(expected.tierMatrix).toContainEqual({ from: 'Green', to: 'Silver', members: 2 });
      // Paged two at a time, in the diff's order.
      const pages: Preview[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await run(m.key, { source: draft, first: 2, ...(after ? { after } : {}) });
        pages.push(page);
        if (!page.members.pageInfo.hasNextPage) break;
        after = page.members.pageInfo.endCursor!;
      }
      const p = pages[0]!;
      const totals = (t: Preview['before']) => ({
        members: t.members,
        earned: t.earned,
        earnedByRule: Object.fromEntries(t.earnedByRule.map((r) => [r.rule ?? '', r.points])),
        redeemed: t.redeemed,
        expired: t.expired,
        reversed: t.reversed,
        adjusted: t.adjusted,
        outstanding: t.outstanding,
        outstandingValue: t.outstandingValue ? `${t.outstandingValue.amount} ${t.outstandingValue.currency}` : null,
        tiers: t.tiers.map(({ tier, members }) => ({ tier, members })),
        errors: t.errors,
      });
      const { program: _a, version: _b, ...beforeTotals } = expected.totals.before;
      const { program: _c, version: _d, ...afterTotals } = expected.totals.after;
      expect(totals(p.before)).toEqual(beforeTotals);
      expect(totals(p.after)).toEqual(afterTotals);
      expect(p.after.hash).toBe(expected.totals.after.version);
      expect(p.changed).toEqual(expected.totals.changed);
      expect(p.tierMatrix.map(({ from, to, members }) => ({ from, to, members }))).toEqual(expected.tierMatrix);
      const members = pages.flatMap((page) => page.members.edges.map((e) => e.node));
      const rules = (list: { rule: string | null; points: number }[]) => Object.fromEntries(list.map((r) => [r.rule ?? '', r.points]));
      expect(
        members.map((x) => ({
          id: x.id,
          before: { balance: x.before.balance, tier: x.before.tier, clubs: x.before.clubs },
          after: { balance: x.after.balance, tier: x.after.tier, clubs: x.after.clubs },
          byRule: { before: rules(x.before.pointsByRule), after: rules(x.after.pointsByRule) },
        })),
      ).toEqual(expected.members);
      expect(p.members.totalCount).toBe(expected.members.length);
      // The tier filter: members in Silver on either side.
      const silver = await run(m.key, { source: draft, tier: 'Silver' });
      expect(silver.members.edges.map((e) => e.node.id)).toEqual(expected.members.filter((x) => x.before.tier === 'Silver' || x.after.tier === 'Silver').map((x) => x.id));
      expect(await stored(m.id)).toEqual(before);
    });

    test('a draft that does not compile is ProgramInvalid; a write key is FORBIDDEN; no program is NO_ACTIVE_PROGRAM', async () => {
      const m = await newMerchant(server, COFFEE);
      const invalid = await ok(server.app, m.key, PreviewProgramDocument, { source: COFFEE.replace('tier Silver at 250 USD', 'tier Silver at') });
      expect(invalid.previewProgram.__typename).toBe('ProgramInvalid');
      if (invalid.previewProgram.__typename === 'ProgramInvalid') expect(invalid.previewProgram.diagnostics.length).toBeGreaterThan(0);
      const write = await server.app.fetch('http://loyalty.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${m.key}` },
        body: JSON.stringify({ query: 'mutation { createApiKey(scope: WRITE) { key } }' }),
      });
      const writeKey = ((await write.json()) as { data: { createApiKey: { key: string } } }).data.createApiKey.key;
      const forbidden = await request(server.app, writeKey, PreviewProgramDocument, { source: COFFEE });
      expect(forbidden.status).toBe(403);
      expect(forbidden.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      const empty = await newMerchant(server);
      const none = await request(server.app, empty.key, PreviewProgramDocument, { source: COFFEE });
      expect(none.errors?.[0]?.extensions?.code).toBe('NO_ACTIVE_PROGRAM');
      const euro = await request(server.app, m.key, PreviewProgramDocument, { source: COFFEE.replaceAll('USD', 'EUR') });
      expect(euro.errors?.[0]?.extensions?.code).toBe('CURRENCY_CHANGE');
    });
  });
}

preview('pglite');
preview('postgres');
