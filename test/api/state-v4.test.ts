// A database written before state version 5: member states with the short
// names (m, msum, mfrac, lim, v 4) and order records with e, p, rev. Such a
// row, put in with SQL, is read as version 5 by every write, the refund of a
// version 4 order record is what it would have been, and verify (db:verify)
// finds the stored log and states agree.
import { describe, expect, test } from 'vitest';
import { verifyMerchant } from '../../src/server/services/verify.ts';
import { example, newMerchant, ok, verifiedServer, type TestServer } from './client.ts';
import { RecordOrderDocument, RefundOrderDocument, SignupDocument } from './generated/operations.ts';

const COFFEE = example('coffee-chain.loyalty');
const latte = { sku: 'LATTE-12', category: 'espresso', qty: 2, price: '4.75' };

/** A version 5 state or order record as version 4 wrote it. */
function toV4(x: Record<string, unknown>, names: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(x)) out[names[k] ?? k] = v;
  if ('v' in out) out.v = 4;
  return out;
}
const STATE_V4 = { metricEntries: 'm', metricSum: 'msum', metricFractional: 'mfrac', limitUses: 'lim' };
const ORDER_V4 = { earned: 'e', eligiblePaid: 'p', reversed: 'rev' };

describe('stored version 4 states on PGlite', { timeout: 120_000 }, () => {
  let server: TestServer;
  verifiedServer('pglite', (s) => (server = s));

  /** Signup and an order, then (when `old`) the stored rows rewritten as version 4; then a second order and a refund of the first. */
  const run = async (old: boolean) => {
    const m = await newMerchant(server, COFFEE);
    const prisma = server.db.prisma;
    await ok(server.app, m.key, SignupDocument, { input: { memberId: 'ava', at: '2026-03-01T09:00:00Z' } });
    await ok(server.app, m.key, RecordOrderDocument, { input: { memberId: 'ava', orderId: 'A-1', lines: [latte, latte], at: '2026-03-02T09:00:00Z' } });
    if (old) {
      const member = await prisma.member.findFirstOrThrow({ where: { merchantId: m.id, externalId: 'ava' } });
      const order = await prisma.order.findFirstOrThrow({ where: { merchantId: m.id, externalId: 'A-1' } });
      const state = toV4(member.state as Record<string, unknown>, STATE_V4);
      const record = toV4(order.record as Record<string, unknown>, ORDER_V4);
      await prisma.$executeRaw`UPDATE members SET state = ${JSON.stringify(state)}::jsonb WHERE id = ${member.id}::uuid`;
      await prisma.$executeRaw`UPDATE orders SET record = ${JSON.stringify(record)}::jsonb WHERE id = ${order.id}::uuid`;
      const stored = await prisma.member.findFirstOrThrow({ where: { id: member.id } });
      expect(stored.state).toMatchObject({ v: 4, m: expect.any(Array), lim: expect.any(Array) });
      // db:verify reads a stored version 4 state as version 5.
      expect((await verifyMerchant(prisma, m.id)).differences).toEqual([]);
    }
    const order = await ok(server.app, m.key, RecordOrderDocument, { input: { memberId: 'ava', orderId: 'A-2', lines: [latte], at: '2026-03-03T09:00:00Z' } });
    const refund = await ok(server.app, m.key, RefundOrderDocument, { input: { memberId: 'ava', orderId: 'A-1', refundId: 'rf-1', lines: [{ sku: 'LATTE-12', qty: 3 }], at: '2026-03-04T10:00:00Z' } });
    if (refund.refundOrder.__typename !== 'MemberPayload') throw new Error(JSON.stringify(refund));
    expect((await verifyMerchant(prisma, m.id)).differences).toEqual([]);
    const member = await prisma.member.findFirstOrThrow({ where: { merchantId: m.id, externalId: 'ava' } });
    const entries = await prisma.ledgerEntry.findMany({ where: { merchantId: m.id }, orderBy: { id: 'asc' } });
    const record = (await prisma.order.findFirstOrThrow({ where: { merchantId: m.id, externalId: 'A-1' } })).record;
    return { order: order.recordOrder.__typename, refund: refund.refundOrder.points, balance: member.balance, state: member.state, record, entries: entries.map((e) => [e.kind, e.points, e.rule]) };
  };

  test('a write to a member stored as version 4 works, gives what a current state gives, and stores the current version (7)', async () => {
    const today = await run(false);
    const old = await run(true);
    expect(old.refund).toBeLessThan(0);
    expect(old).toEqual(today);
    expect(old.state).toMatchObject({ v: 7, vesting: expect.any(Array), metricEntries: expect.any(Array), limitUses: expect.any(Array) });
    expect(Object.keys(old.state as object)).not.toContain('m');
    expect(old.record).toMatchObject({ earned: expect.any(Number), eligiblePaid: expect.any(Number), reversed: expect.any(Number) });
  });
});
