// The event log (issue 6): every write appends its event in its own
// transaction, the log is append-only, replaying it gives what is stored
// (verify), the export replays to the server's results, and every write is
// applied at most once per key. On embedded PGlite and on a real PostgreSQL.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { compile } from '../../dsl/index.ts';
import { Replay } from '../../src/engine/index.ts';
import { COMMAND_LINE } from '../../src/server/services/audit.ts';
import { importLines, MAX_LINE_BYTES } from '../../src/server/services/import.ts';
import { linesOf } from '../../src/server/http/events-export.ts';
import { verifyMerchant } from '../../src/server/services/verify.ts';
import { generateToString } from '../../bench/generate.ts';
import { conformanceDir, conformanceNextDir } from '../support.ts';
import { example, newMerchant, ok, rawRequest, request, verifiedServer, type Backend, type TestServer } from './client.ts';
import { feedFixture } from './fixtures.ts';
import {
  AdjustPointsDocument,
  AdvanceTimeDocument,
  CreateWebhookEndpointDocument,
  MemberDocument,
  OrderDocument,
  RecordEventDocument,
  RecordOrderDocument,
  RedeemPointsDocument,
  SignupDocument,
} from './generated/operations.ts';

const COFFEE = example('coffee-chain.loyalty');
const latte = (price = '4.75') => ({ sku: 'LATTE-12', category: 'espresso', qty: 2, price });

function eventLog(backend: Backend) {
  describe(`event log on ${backend}`, { timeout: 120_000 }, () => {
    let server: TestServer;
    verifiedServer(backend, (s) => (server = s));

    const exportOf = async (key: string | null, query = '') => {
      const res = await server.app.fetch(`http://loyalty.test/events.jsonl${query}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
      return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
    };
    const logOf = (merchantId: string) => server.db.prisma.event.findMany({ where: { merchantId }, orderBy: { seq: 'asc' } });

    test('every write appends its event, accepted or refused, with its version; advanceTime a tick; entries name their event', async () => {
      const m = await newMerchant(server, COFFEE);
      await ok(server.app, m.key, SignupDocument, { input: { memberId: 'ava', birthday: '1990-07-14', at: '2026-03-01T09:00:00Z' } });
      await ok(server.app, m.key, RecordOrderDocument, { input: { memberId: 'ava', orderId: 'A-1', lines: [latte()], at: '2026-03-02T09:00:00Z' } });
      const refused = await ok(server.app, m.key, RedeemPointsDocument, { input: { memberId: 'ava', points: 99_999, at: '2026-03-02T10:00:00Z' } });
      expect(refused.redeemPoints.__typename).toBe('EventRefused');
      await ok(server.app, m.key, AdvanceTimeDocument, { at: '2026-07-15T00:00:00Z' });
      const log = await logOf(m.id);
      expect(log.map((e) => [e.type, e.member, e.accepted, e.refusalCode])).toEqual([
        ['signup', 'ava', true, null],
        ['order', 'ava', true, null],
        ['redeem', 'ava', false, 'INSUFFICIENT_POINTS'],
        ['tick', null, true, null],
      ]);
      expect(JSON.parse(log[1]!.line)).toEqual({
        type: 'order', at: '2026-03-02T09:00:00Z', member: 'ava', id: 'A-1', lines: [{ sku: 'LATTE-12', category: 'espresso', qty: 2, price: '4.75' }],
      });
      expect(log.map((e) => e.key)).toEqual(['signup:ava', 'order:A-1', null, null]);
      const version = await server.db.prisma.programVersion.findFirstOrThrow({ where: { merchantId: m.id, active: true } });
      expect(new Set(log.map((e) => e.programVersionId))).toEqual(new Set([version.id]));
      // Every entry names the event that wrote it: the birthday bonus is the tick's.
      const entries = await server.db.prisma.ledgerEntry.findMany({ where: { merchantId: m.id }, orderBy: { id: 'asc' } });
      expect(entries.every((e) => e.eventSeq !== null)).toBe(true);
      expect(entries.find((e) => e.rule === 'birthday')?.eventSeq).toBe(log[3]!.seq);
      expect((await verifyMerchant(server.db.prisma, m.id)).differences).toEqual([]);
    });

    test('a refused write that changed nothing is logged once: a retry with the same at and body (refused again) writes nothing new', async () => {
      const m = await newMerchant(server, COFFEE);
      const typeOf = (r: { __typename: string }) => r.__typename;
      await ok(server.app, m.key, SignupDocument, { input: { memberId: 'ava', at: '2026-03-01T09:00:00Z' } });
      // Too many points at ava's clock (her signup): refused, and again on a retry; then an order moves her clock past it.
      const redeem = { memberId: 'ava', points: 99_999, at: '2026-03-01T09:00:00Z', idempotencyKey: 'r-1' };
      const first = await ok(server.app, m.key, RedeemPointsDocument, { input: redeem });
      const again = await ok(server.app, m.key, RedeemPointsDocument, { input: redeem });
      expect([typeOf(first.redeemPoints), typeOf(again.redeemPoints)]).toEqual(['EventRefused', 'EventRefused']);
      await ok(server.app, m.key, RecordOrderDocument, { input: { memberId: 'ava', orderId: 'A-1', lines: [latte()], at: '2026-03-02T09:00:00Z' } });
      const late = await ok(server.app, m.key, RedeemPointsDocument, { input: redeem });
      expect(late.redeemPoints).toMatchObject({ __typename: 'EventRefused', code: 'OUT_OF_ORDER' });
      // An order for a member who never signed up, sent twice with its time (the cached path is ava's, not zed's).
      const zed = { memberId: 'zed', orderId: 'Z-1', lines: [latte()], at: '2026-03-02T10:00:00Z' };
      for (let i = 0; i < 2; i++) expect(typeOf((await ok(server.app, m.key, RecordOrderDocument, { input: zed })).recordOrder)).toBe('EventRefused');
      // ava's next order was cached by this process: its refusal as out of order goes the usual way and is not logged twice either.
      const early = { memberId: 'ava', orderId: 'A-0', lines: [latte()], at: '2026-03-01T12:00:00Z' };
      for (let i = 0; i < 2; i++) expect((await ok(server.app, m.key, RecordOrderDocument, { input: early })).recordOrder).toMatchObject({ __typename: 'EventRefused', code: 'OUT_OF_ORDER' });
      // The same redeem at a new time is another event: logged.
      await ok(server.app, m.key, RedeemPointsDocument, { input: { ...redeem, at: '2026-03-03T09:00:00Z' } });
      const log = await logOf(m.id);
      expect(log.map((e) => [e.type, e.member, e.at.toISOString(), e.refusalCode])).toEqual([
        ['signup', 'ava', '2026-03-01T09:00:00.000Z', null],
        ['redeem', 'ava', '2026-03-01T09:00:00.000Z', 'INSUFFICIENT_POINTS'],
        ['order', 'ava', '2026-03-02T09:00:00.000Z', null],
        ['order', 'zed', '2026-03-02T10:00:00.000Z', 'UNKNOWN_MEMBER'],
        ['order', 'ava', '2026-03-01T12:00:00.000Z', 'OUT_OF_ORDER'],
        ['redeem', 'ava', '2026-03-03T09:00:00.000Z', 'INSUFFICIENT_POINTS'],
      ]);
      expect((await verifyMerchant(server.db.prisma, m.id)).differences).toEqual([]);
    });

    test('the log is append-only: the database refuses UPDATE and DELETE', async () => {
      const m = await newMerchant(server, COFFEE);
      await ok(server.app, m.key, SignupDocument, { input: { memberId: 'ava', at: '2026-03-01T09:00:00Z' } });
      const prisma = server.db.prisma;
      await expect(prisma.$transaction((tx) => tx.$executeRaw`DELETE FROM events WHERE merchant_id = ${m.id}::uuid`)).rejects.toThrow(/append-only/);
      await expect(prisma.$transaction((tx) => tx.$executeRaw`UPDATE events SET line = '{}' WHERE merchant_id = ${m.id}::uuid`)).rejects.toThrow(/append-only/);
      expect(await logOf(m.id)).toHaveLength(1);
    });

    test('verify finds a stored balance, ledger or state that the log does not give', async () => {
      const m = await newMerchant(server, COFFEE);
      await ok(server.app, m.key, SignupDocument, { input: { memberId: 'ava', at: '2026-03-01T09:00:00Z' } });
      await ok(server.app, m.key, RecordOrderDocument, { input: { memberId: 'ava', orderId: 'A-1', lines: [latte()], at: '2026-03-02T09:00:00Z' } });
      expect((await verifyMerchant(server.db.prisma, m.id)).differences).toEqual([]);
      const entry = await server.db.prisma.ledgerEntry.findFirstOrThrow({ where: { merchantId: m.id, rule: 'base' } });
      await server.db.prisma.ledgerEntry.update({ where: { id: entry.id }, data: { points: entry.points + 5n } });
      await server.db.prisma.member.updateMany({ where: { merchantId: m.id }, data: { balance: { increment: 5 } } });
      const report = await verifyMerchant(server.db.prisma, m.id);
      expect(report.differences.map((d) => [d.member, d.what])).toEqual([['ava', 'balance'], ['ava', 'ledger']]);
      // Put it back, so that the suite's own verify passes.
      await server.db.prisma.ledgerEntry.update({ where: { id: entry.id }, data: { points: entry.points } });
      await server.db.prisma.member.updateMany({ where: { merchantId: m.id }, data: { balance: { decrement: 5 } } });
      expect((await verifyMerchant(server.db.prisma, m.id)).differences).toEqual([]);
    });

    const fixtures: [string, string, string][] = [['coffee-chain', COFFEE, example('coffee-chain.events.jsonl')]];
    const conformance = conformanceDir();
    const case19 = conformance && join(conformance, '19-event-errors');
    if (case19 && existsSync(case19)) {
      fixtures.push(['conformance 19 (events earlier than another member\'s)', readFileSync(join(case19, 'program.loyalty'), 'utf8'), readFileSync(join(case19, 'events.jsonl'), 'utf8')]);
    }
    for (const [name, program, events] of fixtures) {
      test(`${name}: loyalty replay of the export gives the server's balances, tiers and ledgers`, async () => {
        const m = await newMerchant(server, program, { sandbox: true });
        const api = await feedFixture(server.app, m.key, events);
        const exported = await exportOf(m.key);
        expect(exported.status).toBe(200);
        expect(exported.type).toContain('application/x-ndjson');
        const replay = new Replay(compile(program, `${name}.loyalty`).program!);
        exported.text.split('\n').forEach((line, i) => replay.pushLine(line, i + 1));
        const result = replay.result();
        for (const [id, member] of Object.entries(api.members)) {
          const replayed = result.members[id];
          expect(replayed, id).toBeDefined();
          expect({ balance: replayed!.balance, tier: replayed!.tier, ledger: replayed!.ledger }, id).toEqual({ balance: member.balance, tier: member.tier, ledger: member.ledger });
        }
        expect(Object.keys(result.members).sort()).toEqual(Object.keys(api.members).sort());
        // An accepted line carries its key, which replay ignores; lines come in time order.
        const lines = exported.text.trim().split('\n').map((l) => JSON.parse(l) as { at: string; key?: string; type: string; member?: string });
        for (const id of Object.keys(api.members)) expect(lines.filter((l) => l.key === `signup:${id}`)).toHaveLength(1);
        expect(lines.map((l) => Date.parse(l.at))).toEqual(lines.map((l) => Date.parse(l.at)).sort((a, b) => a - b));
      });
    }

    test('an export imported into another merchant gives the same members; re-sent, it writes nothing new', async () => {
      const from = await newMerchant(server, COFFEE, { sandbox: true });
      const api = await feedFixture(server.app, from.key, example('coffee-chain.events.jsonl'));
      const exported = (await exportOf(from.key)).text;
      const to = await newMerchant(server, COFFEE, { sandbox: true });
      const post = (key: string, body: string) =>
        server.app.fetch('http://loyalty.test/events.jsonl', { method: 'POST', headers: { authorization: `Bearer ${key}` }, body });
      const lines = exported.trim().split('\n');
      const first = (await (await post(to.key, `${exported}not json\n`)).json()) as { accepted: number; replayed: number; refused: unknown[]; malformed: { line: number }[] };
      expect(first.malformed).toEqual([expect.objectContaining({ line: lines.length + 1, code: 'BAD_USER_INPUT' })]);
      expect(first.accepted + first.refused.length).toBeGreaterThan(0);
      const balances = async (merchantId: string) =>
        Object.fromEntries((await server.db.prisma.member.findMany({ where: { merchantId }, select: { externalId: true, balance: true, tier: true } })).map((m) => [m.externalId, [Number(m.balance), m.tier]]));
      const theirs = Object.fromEntries(Object.entries(api.members).map(([id, m]) => [id, [m.balance, m.tier]]));
      expect(await balances(to.id)).toEqual(theirs);
      const count = () => server.db.prisma.ledgerEntry.count({ where: { merchantId: to.id } });
      const entries = await count();
      const again = (await (await post(to.key, exported)).json()) as { accepted: number; replayed: number };
      expect(again.accepted).toBe(0);
      expect(again.replayed).toBeGreaterThan(0);
      expect(await count()).toBe(entries);
      expect(await balances(to.id)).toEqual(theirs);
      expect((await verifyMerchant(server.db.prisma, to.id)).differences).toEqual([]);
      // Importing needs an admin key.
      const created = (await rawRequest(server.app, { query: 'mutation { createApiKey(scope: WRITE) { key } }' }, to.key)) as { data: { createApiKey: { key: string } } };
      expect((await post(created.data.createApiKey.key, exported)).status).toBe(403);
    });

    test('an import in batches (a generated stream with its awkward cases) gives loyalty replay\'s members and ledgers, a log that verifies, and nothing new when re-sent', async () => {
      // Refused and duplicate orders, bad lines and over-refunds make some batches fall back to one write per line.
      const events = generateToString({ events: 900, members: 60, months: 1, edge: true });
      const m = await newMerchant(server, COFFEE, { sandbox: true });
      const post = async () =>
        (await (await server.app.fetch('http://loyalty.test/events.jsonl', { method: 'POST', headers: { authorization: `Bearer ${m.key}` }, body: events })).json()) as {
          accepted: number;
          replayed: number;
          refused: { line: number }[];
          malformed: { line: number }[];
        };
      const summary = await post();
      const replay = new Replay(compile(COFFEE, 'coffee-chain.loyalty').program!);
      events.split('\n').forEach((line, i) => replay.pushLine(line, i + 1));
      const expected = replay.result();
      expect(summary.refused.length + summary.malformed.length).toBeGreaterThan(0);
      // Every line the server did not apply is one replay reports, and in line order.
      const problems = [...summary.malformed, ...summary.refused].map((p) => p.line).sort((a, b) => a - b);
      expect(problems).toEqual(expected.errors.map((e) => e.line));
      expect(summary.malformed.map((p) => p.line)).toEqual([...summary.malformed.map((p) => p.line)].sort((a, b) => a - b));
      const stored = await server.db.prisma.member.findMany({ where: { merchantId: m.id }, select: { externalId: true, balance: true, tier: true, _count: { select: { ledgerEntries: true } } } });
      expect(Object.fromEntries(stored.map((s) => [s.externalId, [Number(s.balance), s.tier, s._count.ledgerEntries]]))).toEqual(
        Object.fromEntries(Object.entries(expected.members).map(([id, r]) => [id, [r.balance, r.tier, r.ledger.length]])),
      );
      expect((await verifyMerchant(server.db.prisma, m.id)).differences).toEqual([]);
      const entries = await server.db.prisma.ledgerEntry.count({ where: { merchantId: m.id } });
      const again = await post();
      expect(again.accepted).toBe(0);
      expect(again.replayed).toBe(summary.accepted + summary.replayed);
      expect(await server.db.prisma.ledgerEntry.count({ where: { merchantId: m.id } })).toBe(entries);
    });

    test('an import with notifications=false records no notifications, deliveries or reminders, and the same ledgers as one that notifies', async () => {
      // The last line reuses an order id with another body: its batch falls back to one write per line (halves down to 16 lines), which must stay quiet too.
      const lines = generateToString({ events: 900, members: 60, months: 2, edge: true }).trimEnd().split('\n');
      const conflict = lines.find((l) => l.startsWith('{"type":"order"'))!.replace(/"price":"[0-9.]+"/, '"price":"999.00"');
      const events = `${[...lines, conflict].join('\n')}\n`;
      const post = async (key: string, query: string) =>
        server.app.fetch(`http://loyalty.test/events.jsonl${query}`, { method: 'POST', headers: { authorization: `Bearer ${key}` }, body: events });
      const [quiet, loud] = [await newMerchant(server, COFFEE, { sandbox: true }), await newMerchant(server, COFFEE, { sandbox: true })];
      // An endpoint for every type with reminders: the notifying import delivers to it and records reminders (its ticks go one by one).
      for (const m of [quiet, loud]) await ok(server.app, m.key, CreateWebhookEndpointDocument, { url: 'http://127.0.0.1:9/hooks', reminderDays: 3 });
      const bad = await post(quiet.key, '?notifications=no');
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('BAD_USER_INPUT');
      const summaries = [await (await post(quiet.key, '?notifications=false')).json(), await (await post(loud.key, '?notifications=true')).json()];
      expect(summaries[0]).toEqual(summaries[1]);
      expect((summaries[0] as { refused: { line: number; code: string }[] }).refused).toContainEqual(expect.objectContaining({ line: lines.length + 1, code: 'IDEMPOTENCY_CONFLICT' }));
      const outcome = async (merchantId: string) => ({
        notifications: await server.db.prisma.notification.count({ where: { merchantId } }),
        reminders: await server.db.prisma.notification.count({ where: { merchantId, type: { in: ['points.expiring', 'club.ending'] } } }),
        deliveries: await server.db.prisma.delivery.count({ where: { merchantId } }),
        members: (await server.db.prisma.member.findMany({ where: { merchantId }, select: { externalId: true, balance: true, tier: true, ledgerEntries: { select: { points: true } } } }))
          .map((r) => [r.externalId, Number(r.balance), r.tier, r.ledgerEntries.map((e) => Number(e.points)).sort((a, b) => a - b)])
          .sort(),
      });
      const [q, l] = [await outcome(quiet.id), await outcome(loud.id)];
      expect(l.notifications).toBeGreaterThan(0);
      expect(l.reminders).toBeGreaterThan(0);
      expect(l.deliveries).toBe(l.notifications);
      expect({ notifications: q.notifications, reminders: q.reminders, deliveries: q.deliveries }).toEqual({ notifications: 0, reminders: 0, deliveries: 0 });
      expect(q.members).toEqual(l.members);
      expect(q.members.length).toBe(60);
      expect((await verifyMerchant(server.db.prisma, quiet.id)).differences).toEqual([]);
    });

    test('an import line longer than the limit, or not UTF-8, is malformed and dropped as it streams; the lines around it are applied', async () => {
      const m = await newMerchant(server, COFFEE);
      const text = [
        JSON.stringify({ type: 'signup', at: '2026-03-01T09:00:00Z', member: 'ava' }),
        `[${'1,'.repeat(600_000)}1]`, // a document of 1.2 million characters on one line
        JSON.stringify({ type: 'signup', at: '2026-03-01T10:00:00Z', member: 'ben' }),
        JSON.stringify({ type: 'signup', at: '2026-03-01T11:00:00Z', member: 'jos\u00e9' }),
      ].join('\n');
      // The last line as a file saved in Latin-1 has it: é is one byte, not UTF-8.
      const utf8 = Buffer.from(text, 'utf8');
      const body = Buffer.concat([utf8.subarray(0, utf8.lastIndexOf('\n') + 1), Buffer.from(text.slice(text.lastIndexOf('\n') + 1), 'latin1')]);
      const res = await server.app.fetch('http://loyalty.test/events.jsonl', { method: 'POST', headers: { authorization: `Bearer ${m.key}` }, body });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        accepted: 2,
        replayed: 0,
        refused: [],
        malformed: [
          { line: 2, code: 'BAD_USER_INPUT', message: expect.stringContaining('longer than 1,000,000 bytes') },
          { line: 4, code: 'BAD_USER_INPUT', message: expect.stringContaining('not valid UTF-8') },
        ],
        refusedCount: 0,
        malformedCount: 2,
      });
      expect((await logOf(m.id)).map((e) => e.member)).toEqual(['ava', 'ben']);
    });

    test('text PostgreSQL cannot store (U+0000, a lone surrogate) makes its line malformed and its write BAD_USER_INPUT; the lines around it are applied', async () => {
      const m = await newMerchant(server, COFFEE);
      const signup = (member: string, at: string) => JSON.stringify({ type: 'signup', at, member });
      // JSON can write both as escapes; before the check each failed its statement, and the import with it.
      const text = [
        signup('ava', '2026-03-01T09:00:00Z'),
        signup('nul\u0000', '2026-03-01T09:01:00Z'),
        signup('half\ud800', '2026-03-01T09:02:00Z'),
        JSON.stringify({ type: 'order', at: '2026-03-01T09:03:00Z', member: 'ava', id: 'A-1', lines: [{ sku: 'LATTE\udc00', category: 'drinks', qty: 1, price: '4.50' }] }),
        JSON.stringify({ type: 'adjust', at: '2026-03-01T09:04:00Z', member: 'ava', points: 5, reason: 'goodwill\u0000' }),
        JSON.stringify({ type: 'event', at: '2026-03-01T09:05:00Z', member: 'ava', name: 'survey', key: 'write:k\u0000' }),
        signup('ben', '2026-03-01T09:06:00Z'),
      ].join('\n');
      const res = await server.app.fetch('http://loyalty.test/events.jsonl', { method: 'POST', headers: { authorization: `Bearer ${m.key}` }, body: text });
      expect(res.status).toBe(200);
      const summary = (await res.json()) as { accepted: number; malformed: { line: number; code: string; message: string }[] };
      expect(summary.accepted).toBe(2);
      expect(summary.malformed.map((p) => [p.line, p.code, p.message.split(':')[0]])).toEqual([
        [2, 'BAD_USER_INPUT', 'member'],
        [3, 'BAD_USER_INPUT', 'member'],
        [4, 'BAD_USER_INPUT', 'lines.0.sku'],
        [5, 'BAD_USER_INPUT', 'reason'],
        [6, 'BAD_USER_INPUT', 'key'],
      ]);
      expect(summary.malformed[0]!.message).toContain('valid Unicode without NUL');
      expect((await logOf(m.id)).map((e) => e.member)).toEqual(['ava', 'ben']);
      // The API's writes say the same, with a code.
      const nul = await request(server.app, m.key, SignupDocument, { input: { memberId: 'a\u0000b', at: '2026-03-02T09:00:00Z' } });
      expect(nul.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(nul.errors?.[0]?.message).toContain('valid Unicode');
      const key = await request(server.app, m.key, RecordEventDocument, { input: { memberId: 'ava', name: 'survey', idempotencyKey: 'k\ud800', at: '2026-03-02T09:00:00Z' } });
      expect(key.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect((await logOf(m.id)).map((e) => e.member)).toEqual(['ava', 'ben']);
      // A read by such an id finds nothing: no member or order can have it.
      const reads = [await request(server.app, m.key, MemberDocument, { id: 'a\u0000b' }), await request(server.app, m.key, OrderDocument, { id: 'A-\u0000' })];
      expect(reads.map((r) => r.errors?.[0]?.extensions?.code)).toEqual(['BAD_USER_INPUT', 'BAD_USER_INPUT']);
    });

    test('an import lists the first thousand problems of each kind in line order and counts them all; malformed lines do not cut a batch short', async () => {
      const m = await newMerchant(server, COFFEE);
      const lines = [JSON.stringify({ type: 'signup', at: '2026-03-01T09:00:00Z', member: 'ava' })];
      for (let i = 0; i < 1005; i++) {
        const at = new Date(Date.UTC(2026, 2, 1, 10, 0, i)).toISOString();
        lines.push('not json', JSON.stringify({ type: 'redeem', at, member: `nobody-${i}`, points: 1 }), JSON.stringify({ type: 'event', at, member: 'ava', name: 'visit' }));
      }
      // A type this server has no event for (another platform's) is malformed as well, without cutting the batch either.
      for (let i = 0; i < 5; i++) lines.splice(1 + 100 * i, 0, JSON.stringify({ type: 'page_view', at: '2026-03-01T09:30:00Z', member: 'ava' }));
      const summary = await importLines({ prisma: server.db.prisma, merchantId: m.id }, COMMAND_LINE, lines);
      const lineOf = (match: (text: string) => boolean) => lines.flatMap((text, i) => (match(text) ? [i + 1] : []));
      expect([summary.accepted, summary.refusedCount, summary.malformedCount, summary.refused.length, summary.malformed.length]).toEqual([1006, 1005, 1010, 1000, 1000]);
      expect(summary.malformed.map((p) => p.line)).toEqual(lineOf((t) => t === 'not json' || t.includes('page_view')).slice(0, 1000));
      expect(summary.malformed[0]).toMatchObject({ line: 2, message: 'unknown event type "page_view"' });
      expect(summary.refused.map((p) => p.line)).toEqual(lineOf((t) => t.includes('"redeem"')).slice(0, 1000));
      expect(summary.refused[0]).toMatchObject({ code: 'UNKNOWN_MEMBER' });
      // All in one batch: ava's row was stored once, not once per malformed line.
      expect((await server.db.prisma.member.findFirstOrThrow({ where: { merchantId: m.id, externalId: 'ava' } })).version).toBeLessThanOrEqual(1);
    });

    test('an import whose batches span many statements (lines in pipelined chunks, members\' states a statement per hundred) gives loyalty replay\'s members and ledgers, and nothing new when re-sent', async () => {
      // 260 members in 1,200-line batches of 150-line chunks: each batch stores its members' states in three statements.
      const events = generateToString({ events: 3000, members: 260, months: 2 });
      const m = await newMerchant(server, COFFEE, { sandbox: true });
      const scope = { prisma: server.db.prisma, merchantId: m.id };
      const options = { batchLines: 1200, chunkLines: 150 };
      const summary = await importLines(scope, COMMAND_LINE, events.split('\n'), options);
      const replay = new Replay(compile(COFFEE, 'coffee-chain.loyalty').program!);
      events.split('\n').forEach((line, i) => replay.pushLine(line, i + 1));
      const expected = replay.result();
      expect([...summary.malformed, ...summary.refused].map((p) => p.line).sort((a, b) => a - b)).toEqual(expected.errors.map((e) => e.line));
      const stored = await server.db.prisma.member.findMany({
        where: { merchantId: m.id },
        select: { externalId: true, balance: true, tier: true, version: true, ledgerEntries: { select: { points: true } } },
      });
      expect(stored.length).toBe(260);
      expect(Object.fromEntries(stored.map((s) => [s.externalId, [Number(s.balance), s.tier, s.ledgerEntries.map((e) => Number(e.points)).sort((a, b) => a - b)]]))).toEqual(
        Object.fromEntries(Object.entries(expected.members).map(([id, r]) => [id, [r.balance, r.tier, r.ledger.map((e) => e.points).sort((a, b) => a - b)]])),
      );
      // A member's row is written once per batch it appears in (three batches), not once per line.
      expect(Math.max(...stored.map((s) => s.version))).toBeLessThanOrEqual(3);
      expect((await verifyMerchant(server.db.prisma, m.id)).differences).toEqual([]);
      const entries = await server.db.prisma.ledgerEntry.count({ where: { merchantId: m.id } });
      const logged = await server.db.prisma.event.count({ where: { merchantId: m.id } });
      expect(summary.refused.length).toBeGreaterThan(0);
      const again = await importLines(scope, COMMAND_LINE, events.split('\n'), options);
      expect(again.accepted).toBe(0);
      expect(again.replayed).toBe(summary.accepted + summary.replayed);
      expect(await server.db.prisma.ledgerEntry.count({ where: { merchantId: m.id } })).toBe(entries);
      // The lines refused the first time are refused again (now as earlier than their member's later events), and not logged again.
      expect(again.refused.map((r) => r.line)).toEqual(summary.refused.map((r) => r.line));
      expect(await server.db.prisma.event.count({ where: { merchantId: m.id } })).toBe(logged);
    });

    test('an import in many small batches, each parsed while the one before is written, gives loyalty replay\'s members and problems in line order', async () => {
      // 60-line batches: every batch but the first is read and prepared while the one before it is still in the database's hands.
      const events = generateToString({ events: 1500, members: 120, months: 2 }).split('\n');
      for (let i = 37; i < events.length; i += 97) events.splice(i, 0, i % 2 ? 'not json' : JSON.stringify({ type: 'page_view', at: '2026-01-01T00:00:00Z', member: 'x' }));
      const m = await newMerchant(server, COFFEE, { sandbox: true });
      const summary = await importLines({ prisma: server.db.prisma, merchantId: m.id }, COMMAND_LINE, events, { batchLines: 60, chunkLines: 7 });
      const replay = new Replay(compile(COFFEE, 'coffee-chain.loyalty').program!);
      events.forEach((line, i) => replay.pushLine(line, i + 1));
      const expected = replay.result();
      const refused = summary.refused.map((p) => p.line);
      const malformed = summary.malformed.map((p) => p.line);
      expect(malformed.length).toBeGreaterThan(10);
      expect(refused.length).toBeGreaterThan(0);
      expect([refused, malformed]).toEqual([[...refused].sort((a, b) => a - b), [...malformed].sort((a, b) => a - b)]);
      expect([...malformed, ...refused].sort((a, b) => a - b)).toEqual(expected.errors.map((e) => e.line));
      const stored = await server.db.prisma.member.findMany({ where: { merchantId: m.id }, select: { externalId: true, balance: true, tier: true } });
      expect(Object.fromEntries(stored.map((s) => [s.externalId, [Number(s.balance), s.tier]]))).toEqual(
        Object.fromEntries(Object.entries(expected.members).map(([id, r]) => [id, [r.balance, r.tier]])),
      );
      expect((await verifyMerchant(server.db.prisma, m.id)).differences).toEqual([]);
    });

    test('an import applies every type of line in its batch as the one-by-one writes do (clubs, refunds, referrals, ticks, an adjust with its audit) and logs a refused order as refused', async () => {
      const order = (at: string, member: string, id: string) =>
        JSON.stringify({ type: 'order', at, member, id, lines: [{ sku: 'LATTE-12', category: 'espresso', qty: 1, price: '4.75' }], channel: 'store' });
      const extra = [
        JSON.stringify({ type: 'cancel_club', at: '2027-04-02T10:00:00Z', member: 'ben', club: 'Bean Club' }),
        order('2027-04-02T11:00:00Z', 'zed', 'Z-1'), // no such member: refused
        JSON.stringify({ type: 'join_club', at: '2027-04-02T12:00:00Z', member: 'cara', club: 'Bean Club' }),
        JSON.stringify({ type: 'cancel_club', at: '2027-04-02T13:00:00Z', member: 'cara', club: 'Bean Club' }),
      ];
      // A reason with what COPY's text format escapes (a backslash, a tab, a newline) and what JSON does (a quote).
      const reason = 'goodwill: a "free" latte \\ a\ttab, a\nnew line, caf\u00e9';
      const adjust = { type: 'adjust', at: '2027-04-03T09:00:00Z', member: 'ava', points: 25, reason, key: 'write:adj-1' };
      const history = `${example('coffee-chain.events.jsonl').trimEnd()}\n${extra.join('\n')}\n`;
      const imported = await newMerchant(server, COFFEE, { sandbox: true });
      const res = await server.app.fetch('http://loyalty.test/events.jsonl', {
        method: 'POST',
        headers: { authorization: `Bearer ${imported.key}` },
        body: `${history}${JSON.stringify(adjust)}\n`,
      });
      const summary = (await res.json()) as { refused: { line: number; code: string }[] };
      const zed = history.split('\n').findIndex((l) => l.includes('"Z-1"')) + 1;
      expect(summary.refused).toContainEqual(expect.objectContaining({ line: zed }));
      // The reference: the same history through the API, one write per line.
      const api = await newMerchant(server, COFFEE, { sandbox: true });
      await feedFixture(server.app, api.key, history);
      await ok(server.app, api.key, AdjustPointsDocument, { input: { memberId: 'ava', points: 25, reason, idempotencyKey: 'adj-1', at: adjust.at } });
      const mirror = async (merchantId: string) => ({
        members: (await server.db.prisma.member.findMany({ where: { merchantId }, select: { externalId: true, balance: true, tier: true, nextDueAt: true }, orderBy: { externalId: 'asc' } })),
        ledger: (await server.db.prisma.ledgerEntry.findMany({ where: { merchantId }, select: { member: { select: { externalId: true } }, at: true, kind: true, points: true, rule: true, ref: true, reason: true, order: { select: { externalId: true } } }, orderBy: { id: 'asc' } })),
        clubs: (await server.db.prisma.clubMembership.findMany({ where: { member: { merchantId } }, select: { member: { select: { externalId: true } }, club: true, since: true, until: true, cancelledAt: true }, orderBy: [{ since: 'asc' }] })),
        orders: (await server.db.prisma.order.findMany({ where: { merchantId }, select: { externalId: true, refunds: true, record: true, total: true }, orderBy: { externalId: 'asc' } })),
        referrals: (await server.db.prisma.referral.findMany({ where: { merchantId }, select: { referee: { select: { externalId: true } }, rewardedAt: true, rewardOrder: { select: { externalId: true } } }, orderBy: { createdAt: 'asc' } })),
        audit: (await server.db.prisma.auditEntry.findMany({ where: { merchantId, action: 'adjustPoints' }, select: { target: true, details: true } })),
        // The logged lines and body hashes the batch writes are the one-by-one writes'.
        events: (await server.db.prisma.event.findMany({ where: { merchantId, accepted: true, NOT: { type: 'tick' } }, select: { type: true, member: true, line: true, bodyHash: true }, orderBy: { seq: 'asc' } })),
      });
      const got = await mirror(imported.id);
      const want = await mirror(api.id);
      // Ledger entries in write order within each member (the batch writes a tick's entries member by member, as advanceTime does).
      const byMember = (l: typeof got.ledger) => [...l].sort((a, b) => a.member.externalId.localeCompare(b.member.externalId));
      expect({ ...got, ledger: byMember(got.ledger) }).toEqual({ ...want, ledger: byMember(want.ledger) });
      expect(got.clubs.filter((c) => c.cancelledAt !== null).map((c) => c.member.externalId).sort()).toEqual(['ben', 'cara']);
      expect(got.audit).toHaveLength(1);
      expect(got.ledger.filter((e) => e.kind === 'adjust').map((e) => e.reason)).toEqual([reason]);
      const log = await logOf(imported.id);
      expect(log.filter((e) => e.type === 'order' && !e.accepted).map((e) => [e.member, e.refusalCode])).toContainEqual(['zed', expect.any(String)]);
    });

    test('an import in small batches names the order of each vesting entry (pending points of an order from an earlier batch) as the one-by-one writes do', async () => {
      const program = example('fashion-retailer.loyalty');
      const history = example('fashion-retailer.events.jsonl');
      const imported = await newMerchant(server, program, { sandbox: true });
      // Four lines a batch, two a chunk: most vesting entries name an order that an earlier batch stored.
      await importLines({ prisma: server.db.prisma, merchantId: imported.id }, COMMAND_LINE, history.split('\n'), { batchLines: 4, chunkLines: 2 });
      const api = await newMerchant(server, program, { sandbox: true });
      await feedFixture(server.app, api.key, history, { pending: true });
      const ledger = async (merchantId: string) =>
        (
          await server.db.prisma.ledgerEntry.findMany({
            where: { merchantId },
            select: { member: { select: { externalId: true } }, at: true, kind: true, points: true, rule: true, ref: true, order: { select: { externalId: true } } },
            orderBy: { id: 'asc' },
          })
        ).sort((a, b) => a.member.externalId.localeCompare(b.member.externalId));
      const got = await ledger(imported.id);
      expect(got.filter((e) => e.ref !== null && e.order !== null).length).toBeGreaterThan(0);
      expect(got).toEqual(await ledger(api.id));
    });

    test("the database refuses an order or a ledger entry naming another merchant's member (the composite foreign keys)", async () => {
      const [a, b] = [await newMerchant(server, COFFEE), await newMerchant(server, COFFEE)];
      await ok(server.app, b.key, SignupDocument, { input: { memberId: 'bob', at: '2026-03-01T09:00:00Z' } });
      const bob = await server.db.prisma.member.findFirstOrThrow({ where: { merchantId: b.id, externalId: 'bob' }, select: { id: true } });
      const version = await server.db.prisma.programVersion.findFirstOrThrow({ where: { merchantId: a.id, active: true }, select: { id: true } });
      // In a transaction each (a failed statement outside one drops PGlite's socket connection); the accepted ones are rolled back.
      const insert = (sql: string, ...params: string[]) =>
        server.db.prisma.$transaction(async (tx) => {
          await tx.$executeRawUnsafe(sql, ...params);
          throw new Error('inserted');
        });
      const entry = (merchantId: string) =>
        insert(`INSERT INTO ledger_entries (merchant_id, member_id, at, kind, points, program_version_id) VALUES ($1::uuid, $2::uuid, now(), 'adjust', 1, $3::uuid)`, merchantId, bob.id, version.id);
      const order = (merchantId: string) =>
        insert(`INSERT INTO orders (id, merchant_id, member_id, external_id, body_hash, lines, total, at) VALUES (gen_random_uuid(), $1::uuid, $2::uuid, 'X-1', 'h', '[]', 0, now())`, merchantId, bob.id);
      await expect(entry(a.id)).rejects.toThrow(/ledger_entries_merchant_id_member_id_fkey/);
      await expect(order(a.id)).rejects.toThrow(/orders_merchant_id_member_id_fkey/);
      // Under the member's own merchant both are accepted (the version is only checked to exist).
      await expect(entry(b.id)).rejects.toThrow(/^inserted$/);
      await expect(order(b.id)).rejects.toThrow(/^inserted$/);
    });

    const rewards = conformanceNextDir() && join(conformanceNextDir()!, '21-rewards');
    test.runIf(rewards && existsSync(rewards))('an import of a history with reward redemptions gives loyalty replay\'s balances', async () => {
      const program = readFileSync(join(rewards!, 'program.loyalty'), 'utf8');
      const events = readFileSync(join(rewards!, 'events.jsonl'), 'utf8');
      const m = await newMerchant(server, program, { sandbox: true });
      const res = await server.app.fetch('http://loyalty.test/events.jsonl', { method: 'POST', headers: { authorization: `Bearer ${m.key}` }, body: events });
      const summary = (await res.json()) as { malformed: { line: number; message: string }[] };
      const replay = new Replay(compile(program, 'rewards.loyalty').program!);
      events.split('\n').forEach((line, i) => replay.pushLine(line, i + 1));
      const expected = replay.result();
      // Malformed lines are malformed to both; none of them is a redeem_reward.
      expect(summary.malformed.map((p) => p.line)).toEqual(expected.errors.filter((e) => /^(field|missing|not valid|unknown event)/.test(e.message)).map((e) => e.line));
      const stored = await server.db.prisma.member.findMany({ where: { merchantId: m.id }, select: { externalId: true, balance: true } });
      expect(Object.fromEntries(stored.map((s) => [s.externalId, Number(s.balance)]))).toEqual(Object.fromEntries(Object.entries(expected.members).map(([id, r]) => [id, r.balance])));
      expect((await server.db.prisma.event.count({ where: { merchantId: m.id, type: 'redeem_reward', accepted: true } }))).toBeGreaterThan(0);
    });

    test('the export filters by member and time, needs a key, and refuses a bad time', async () => {
      const m = await newMerchant(server, COFFEE);
      for (const id of ['ava', 'ben']) await ok(server.app, m.key, SignupDocument, { input: { memberId: id, at: '2026-03-01T09:00:00Z' } });
      await ok(server.app, m.key, RecordOrderDocument, { input: { memberId: 'ava', orderId: 'A-1', lines: [latte()], at: '2026-03-05T09:00:00Z' } });
      const types = (text: string) => text.trim().split('\n').filter(Boolean).map((l) => `${(JSON.parse(l) as { type: string; member: string }).type}:${(JSON.parse(l) as { member: string }).member}`);
      expect(types((await exportOf(m.key, '?member=ava')).text)).toEqual(['signup:ava', 'order:ava']);
      expect(types((await exportOf(m.key, '?from=2026-03-02')).text)).toEqual(['order:ava']);
      expect(types((await exportOf(m.key, '?to=2026-03-02T00:00:00Z')).text)).toEqual(['signup:ava', 'signup:ben']);
      expect((await exportOf(null)).status).toBe(401);
      expect((await exportOf(m.key, '?from=yesterday')).status).toBe(400);
    });

    test('a write is applied once per key: the same body returns the first result, another body is IDEMPOTENCY_CONFLICT', async () => {
      const m = await newMerchant(server, COFFEE);
      await ok(server.app, m.key, SignupDocument, { input: { memberId: 'ava', at: '2026-03-01T09:00:00Z' } });
      const order = { memberId: 'ava', orderId: 'A-1', lines: [latte('25.0')], at: '2026-03-02T09:00:00Z' };
      const first = await ok(server.app, m.key, RecordOrderDocument, { input: order });
      // "25.0" and "25.00" are one price; a retry without `at` matches the stored time.
      const retry = await ok(server.app, m.key, RecordOrderDocument, { input: { ...order, lines: [latte('25.00')], at: undefined } });
      expect(retry.recordOrder).toMatchObject({ replayed: true, points: first.recordOrder.__typename === 'RecordOrderPayload' ? first.recordOrder.points : -1 });
      const moved = await request(server.app, m.key, RecordOrderDocument, { input: { ...order, at: '2026-03-02T09:05:00Z' } });
      expect(moved.errors?.[0]?.extensions?.code).toBe('IDEMPOTENCY_CONFLICT');

      const event = { memberId: 'ava', name: 'survey', idempotencyKey: 'survey-1', at: '2026-03-03T09:00:00Z' };
      const a = await ok(server.app, m.key, RecordEventDocument, { input: event });
      const b = await ok(server.app, m.key, RecordEventDocument, { input: { ...event, at: undefined } });
      expect(a.recordEvent).toMatchObject({ __typename: 'MemberPayload', replayed: false });
      expect(b.recordEvent).toMatchObject({ __typename: 'MemberPayload', replayed: true });
      if (a.recordEvent.__typename === 'MemberPayload' && b.recordEvent.__typename === 'MemberPayload') {
        expect(b.recordEvent.entries.map((e) => e.id)).toEqual(a.recordEvent.entries.map((e) => e.id));
      }
      const other = await request(server.app, m.key, RecordEventDocument, { input: { ...event, name: 'review' } });
      expect(other.errors?.[0]?.extensions?.code).toBe('IDEMPOTENCY_CONFLICT');
      // The same key for another kind of write is the same key.
      const adjust = await request(server.app, m.key, AdjustPointsDocument, { input: { memberId: 'ava', points: 5, reason: 'x', idempotencyKey: 'survey-1' } });
      expect(adjust.errors?.[0]?.extensions?.code).toBe('IDEMPOTENCY_CONFLICT');
      // A refused write does not take its key: it may be retried once it can succeed.
      const early = await ok(server.app, m.key, RedeemPointsDocument, { input: { memberId: 'ava', points: 5000, idempotencyKey: 'r-1', at: '2026-03-04T09:00:00Z' } });
      expect(early.redeemPoints).toMatchObject({ __typename: 'EventRefused', code: 'INSUFFICIENT_POINTS' });
      await ok(server.app, m.key, AdjustPointsDocument, { input: { memberId: 'ava', points: 5000, reason: 'goodwill', idempotencyKey: 'adj-1', at: '2026-03-04T10:00:00Z' } });
      const later = await ok(server.app, m.key, RedeemPointsDocument, { input: { memberId: 'ava', points: 5000, idempotencyKey: 'r-1', at: '2026-03-04T11:00:00Z' } });
      expect(later.redeemPoints).toMatchObject({ __typename: 'MemberPayload', replayed: false, points: -5000 });
      const log = await logOf(m.id);
      expect(log.filter((e) => e.type === 'event')).toHaveLength(1);
      expect(log.filter((e) => e.key === 'write:r-1').map((e) => e.accepted)).toEqual([true]);
    });
  });
}

eventLog('pglite');
eventLog('postgres');

describe('the lines of an imported body', () => {
  const read = async (pieces: (string | Uint8Array)[]) => {
    const out: unknown[] = [];
    async function* body() {
      for (const p of pieces) yield typeof p === 'string' ? new TextEncoder().encode(p) : p;
    }
    for await (const line of linesOf(body())) out.push(line);
    return out;
  };

  test('lines split across pieces, a character split across pieces, blank lines, a last line without a break', async () => {
    const cafe = new TextEncoder().encode('"caf\u00e9"\n'); // é is two bytes: split between them
    expect(await read(['{"a":', '1}\n\n{"b"', ':2}\r\n', cafe.subarray(0, 4), cafe.subarray(4), 'last'])).toEqual(['{"a":1}', '', '{"b":2}\r', '"caf\u00e9"', 'last']);
    expect(await read([])).toEqual([]);
    expect(await read(['a\n'])).toEqual(['a']);
  });

  test('a line over the limit, in one piece or many, with or without a break after it, is handed on as overlong and the next line read', async () => {
    const long = 'x'.repeat(MAX_LINE_BYTES + 1);
    const exact = 'y'.repeat(MAX_LINE_BYTES);
    expect(await read([`a\n${long}\nb\n`])).toEqual(['a', { unread: 'overlong' }, 'b']);
    expect(await read(['a\n', ...long.match(/.{1,65536}/g)!, '\nb'])).toEqual(['a', { unread: 'overlong' }, 'b']);
    expect(await read([long])).toEqual([{ unread: 'overlong' }]);
    expect((await read([exact, '\n'])).map((l) => (typeof l === 'string' ? l.length : l))).toEqual([MAX_LINE_BYTES]);
  });

  test('a line that is not UTF-8 (Latin-1 é) is handed on as unread, the lines around it read', async () => {
    const latin1 = Uint8Array.from([...new TextEncoder().encode('{"member":"jos'), 0xe9, ...new TextEncoder().encode('"}\n')]);
    expect(await read(['a\n', latin1, 'b\n'])).toEqual(['a', { unread: 'encoding' }, 'b']);
    // A valid é split between pieces is one character.
    const jose = new TextEncoder().encode('jos\u00e9\n');
    expect(await read([jose.subarray(0, 4), jose.subarray(4)])).toEqual(['jos\u00e9']);
  });
});
