// The event log read page by page (logPages, behind GET /events.jsonl and
// previewProgram): keyset pages on (at, seq) give the log exactly as one
// ordered read does, whatever the page size, with events that share an
// instant across page boundaries and with every filter.
import { describe, expect, test } from 'vitest';
import { EVENT_TYPES } from '../../src/engine/index.ts';
import { logPages, type ExportFilter } from '../../src/server/http/events-export.ts';
import { example, newMerchant, verifiedServer, type Backend, type TestServer } from './client.ts';

const COFFEE = example('coffee-chain.loyalty');

/** A history where most events share their instant with others. */
function history(): string {
  const lines: object[] = [];
  const members = ['ava', 'ben', 'cy', 'dee', 'eli', 'fay', 'gus'];
  // Seven signups at one instant, then two rounds of orders, each round at one instant.
  for (const member of members) lines.push({ type: 'signup', at: '2026-03-02T09:00:00Z', member });
  for (const [round, at] of ['2026-03-03T15:00:00Z', '2026-03-04T15:00:00Z'].entries()) {
    for (const member of members) lines.push({ type: 'order', at, member, id: `${member}-${round}`, lines: [{ sku: 'LATTE-12', category: 'espresso', qty: 1, price: '4.75' }] });
  }
  lines.push({ type: 'tick', at: '2026-03-04T15:00:00Z' });
  // Refused for too few points: in the export. Earlier than ava's last event: refused as out of order, left out.
  lines.push({ type: 'redeem', at: '2026-03-05T10:00:00Z', member: 'ben', points: 1_000_000 });
  lines.push({ type: 'order', at: '2026-03-01T10:00:00Z', member: 'ava', id: 'late', lines: [{ sku: 'LATTE-12', category: 'espresso', qty: 1, price: '4.75' }] });
  lines.push({ type: 'order', at: '2026-03-05T10:00:00Z', member: 'cy', id: 'cy-2', lines: [{ sku: 'LATTE-12', category: 'espresso', qty: 1, price: '4.75' }] });
  // Earlier than cy's order but later than dee's last event: accepted, logged after an event it precedes in time.
  lines.push({ type: 'order', at: '2026-03-05T09:00:00Z', member: 'dee', id: 'dee-2', lines: [{ sku: 'LATTE-12', category: 'espresso', qty: 1, price: '4.75' }] });
  return lines.map((l) => JSON.stringify(l)).join('\n') + '\n';
}

function pages(backend: Backend) {
  describe(`logPages on ${backend}`, { timeout: 120_000 }, () => {
    let server: TestServer;
    verifiedServer(backend, (s) => (server = s));

    test('any page size reads the log in (at, seq) order, ties across pages included, each filter applied', async () => {
      const m = await newMerchant(server, COFFEE, { sandbox: true });
      const res = await server.app.fetch('http://loyalty.test/events.jsonl', { method: 'POST', headers: { authorization: `Bearer ${m.key}` }, body: history() });
      expect(res.status).toBe(200);
      const log = await server.db.prisma.event.findMany({ where: { merchantId: m.id }, orderBy: { seq: 'asc' } });
      expect(log.filter((e) => e.refusalCode === 'OUT_OF_ORDER')).toHaveLength(1);
      expect(log.filter((e) => e.refusalCode === 'INSUFFICIENT_POINTS')).toHaveLength(1);
      // The oracle: the log sorted here, less the order-dependent refusals.
      const expected = (keep: (e: (typeof log)[number]) => boolean) =>
        log
          .filter((e) => (EVENT_TYPES as readonly string[]).includes(e.type) && e.refusalCode !== 'OUT_OF_ORDER' && keep(e))
          .sort((a, b) => a.at.getTime() - b.at.getTime() || (a.seq < b.seq ? -1 : 1))
          .map((e) => ({ line: e.line, key: e.key }));
      const read = async (filter: ExportFilter, size?: number) => {
        const out: { line: string; key: string | null }[][] = [];
        for await (const page of logPages(server.db.prisma, m.id, filter, size)) out.push(page.map((e) => ({ line: e.line, key: e.key })));
        return out;
      };
      const all = expected(() => true);
      expect(all.length).toBe(log.length - 1);
      // The log is not in seq order: the oracle's order is the one asked for.
      expect(all.map((e) => e.line)).not.toEqual(log.filter((e) => e.refusalCode !== 'OUT_OF_ORDER').map((e) => e.line));
      for (const size of [1, 2, 3, 7, 5000]) {
        const got = await read({}, size);
        expect(got.flat()).toEqual(all);
        expect(got.map((p) => p.length)).toEqual(Array.from({ length: Math.ceil(all.length / size) }, (_, i) => Math.min(size, all.length - i * size)));
      }
      const throughSeq = log[10]!.seq;
      const to = new Date('2026-03-04T15:00:00Z');
      const from = new Date('2026-03-03T15:00:00Z');
      const filters: [ExportFilter, (e: (typeof log)[number]) => boolean][] = [
        [{ throughSeq }, (e) => e.seq <= throughSeq],
        [{ to }, (e) => e.at < to],
        [{ from, to }, (e) => e.at >= from && e.at < to],
        [{ member: 'ava' }, (e) => e.member === 'ava'],
        [{ member: 'cy', throughSeq }, (e) => e.member === 'cy' && e.seq <= throughSeq],
      ];
      for (const [filter, keep] of filters) {
        const want = expected(keep);
        expect(want.length).toBeGreaterThan(0);
        expect((await read(filter, 2)).flat()).toEqual(want);
      }
    });
  });
}

pages('pglite');
pages('postgres');
