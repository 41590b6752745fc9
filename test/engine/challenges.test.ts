// Challenges (dsl.md 2.10, 4.11) beyond conformance case 23, each checked by
// hand: calendar weeks from Monday in a zone far from UTC, `per member` once
// ever, spend after discounts, excluded and unmatched lines, refunds that
// neither un-count nor reverse, the ledger order with referral, tier and club
// entries, quotes that record nothing, and states from before challenges.
import { describe, expect, it } from 'vitest';
import type { Program } from '../../dsl/index.ts';
import { applyEvent, challengeProgress, parseEvent, quote, type EngineEvent, type MemberState, type OrderRec, type World } from '../../src/engine/index.ts';
import { program, replayEvents } from '../support.ts';

/** Replays the events with the generated and the reference order
 * evaluation (they must agree) and with every state round-tripped through
 * JSON, as the server stores it. */
function run(p: Program, events: object[]) {
  const once = (generated: boolean) => replayEvents(p, events, { serializeStates: true, orders: generated ? 'generated' : 'reference' });
  const reference = once(false);
  const generated = once(true);
  expect(generated).toEqual(reference);
  return generated;
}

/** The challenge entries of a member: [ref, rule, points]. */
function bonuses(result: ReturnType<typeof run>, member = 'm') {
  return result.members[member]!.ledger.filter((e) => e.rule?.startsWith('challenge:')).map((e) => [e.ref, e.rule, e.points]);
}

const signup = (at: string, member = 'm', referrer?: string) => ({ type: 'signup', at, member, ...(referrer ? { referrer } : {}) });
const order = (id: string, at: string, lines: { sku: string; category: string; qty?: number; price: string }[], member = 'm') => ({
  type: 'order',
  at,
  member,
  id,
  lines: lines.map((l) => ({ qty: 1, ...l })),
});
const latte = (price = '4.00') => ({ sku: 'LATTE', category: 'coffee', price });

describe('calendar periods in the program timezone', () => {
  // Tokyo is UTC+9: Monday 00:00 local is Sunday 15:00Z.
  const TOKYO = program(`program "T" {
  currency USD
  timezone "Asia/Tokyo"
  challenge "Two a week" { orders 2 per week  bonus 10 points }
}`);

  it('a week starts on Monday local time, not UTC', () => {
    const r = run(TOKYO, [
      signup('2026-06-01T00:00:00Z'),
      // Sunday 7 June 23:30 JST: the week of Monday 1 June (count 1).
      order('A', '2026-06-07T14:30:00Z', [latte()]),
      // Monday 8 June 00:30 JST: a new week (count 1), though both orders
      // are on Sunday 7 June in UTC, in one UTC week: no bonus.
      order('B', '2026-06-07T15:30:00Z', [latte()]),
      // Monday 8 June 10:00 JST: the second order of that week.
      order('C', '2026-06-08T01:00:00Z', [latte()]),
      // Sunday 14 June 23:59 JST, same week: no second bonus.
      order('D', '2026-06-14T14:59:00Z', [latte()]),
      // Monday 15 June 00:00 JST exactly: the next week, count 1.
      order('E', '2026-06-14T15:00:00Z', [latte()]),
    ]);
    expect(bonuses(r)).toEqual([['C', 'challenge:Two a week', 10]]);
  });

  it('a day, a month and a year turn at local midnight', () => {
    const p = program(`program "T" {
  currency USD
  timezone "America/New_York"
  challenge "Daily" { orders 2 per day  bonus 1 point }
  challenge "Monthly" { orders 2 per month  bonus 2 points }
  challenge "Yearly" { orders 3 per year  bonus 3 points }
}`);
    const r = run(p, [
      signup('2026-12-01T00:00:00Z'),
      // 31 Dec 23:00 EST (1 Jan 04:00Z): 31 December, December, 2026.
      order('A', '2026-12-31T23:00:00Z', [latte()]),
      order('B', '2027-01-01T04:00:00Z', [latte()]), // 31 Dec 23:00 local: second of the day and the month
      order('C', '2027-01-01T05:00:00Z', [latte()]), // 1 Jan 00:00 local: a new day, month and year
      order('D', '2027-01-01T06:00:00Z', [latte()]), // second of 1 January and of January
      order('E', '2027-01-02T06:00:00Z', [latte()]), // third of 2027
    ]);
    expect(bonuses(r)).toEqual([
      ['B', 'challenge:Daily', 1],
      ['B', 'challenge:Monthly', 2],
      ['D', 'challenge:Daily', 1],
      ['D', 'challenge:Monthly', 2],
      ['E', 'challenge:Yearly', 3],
    ]);
  });
});

describe('per member', () => {
  it('is awarded once in the member’s whole life', () => {
    const p = program(`program "T" {
  currency USD
  challenge "Regular" { orders 2 per member  bonus 25 points }
}`);
    const r = run(p, [
      signup('2026-01-01T00:00:00Z'),
      signup('2026-01-01T00:00:00Z', 'n'),
      order('A', '2026-01-02T10:00:00Z', [latte()]),
      order('B', '2026-01-03T10:00:00Z', [latte()]), // the 2nd counting order ever
      order('C', '2026-06-03T10:00:00Z', [latte()]),
      order('D', '2027-01-03T10:00:00Z', [latte()]),
      order('E', '2030-01-03T10:00:00Z', [latte()]),
      order('N1', '2030-01-04T10:00:00Z', [latte()], 'n'),
      order('N2', '2030-01-05T10:00:00Z', [latte()], 'n'),
    ]);
    expect(bonuses(r)).toEqual([['B', 'challenge:Regular', 25]]);
    expect(bonuses(r, 'n')).toEqual([['N2', 'challenge:Regular', 25]]);
  });
});

describe('spend', () => {
  it('sums what was paid after the tier discount, this order included', () => {
    const p = program(`program "T" {
  currency USD
  tiers { tier Member at 0 { discount 10% on everything } }
  challenge "Twenty" { spend 20 USD per month  bonus 40 points }
}`);
    const r = run(p, [
      signup('2026-03-01T00:00:00Z'),
      // 2 × 10.00 = 20.00 less 10% = 18.00: short of 20.00 although the price reaches it.
      order('A', '2026-03-02T10:00:00Z', [{ sku: 'BAG', category: 'beans', qty: 2, price: '10.00' }]),
      // 2.00 less 0.20 = 1.80: 19.80.
      order('B', '2026-03-03T10:00:00Z', [{ sku: 'COOKIE', category: 'food', price: '2.00' }]),
      // 0.25 less floor(2.5) = 0.02 → 0.23: 20.03 ≥ 20.00.
      order('C', '2026-03-04T10:00:00Z', [{ sku: 'MINT', category: 'food', price: '0.25' }]),
      order('D', '2026-03-05T10:00:00Z', [{ sku: 'BAG', category: 'beans', qty: 3, price: '10.00' }]),
    ]);
    expect(bonuses(r)).toEqual([['C', 'challenge:Twenty', 40]]);
  });

  it('counts only the eligible lines that match the filters', () => {
    const p = program(`program "T" {
  currency USD
  exclude category "gift-card"
  challenge "Coffee ten" { spend 10 USD per day  category "coffee"  exclude sku "DECAF"  bonus 5 points }
  challenge "Gift buyer" { orders 1 per member  category "gift-card"  bonus 99 points }
  challenge "Any order" { orders 2 per day  bonus 1 point }
}`);
    const r = run(p, [
      signup('2026-03-01T00:00:00Z'),
      // Gift card (excluded) and a scone: coffee spend 0; the scone makes it count for "Any order" (1).
      order('A', '2026-03-02T10:00:00Z', [{ sku: 'GIFT-50', category: 'gift-card', price: '50.00' }, { sku: 'SCONE', category: 'pastry', price: '3.00' }]),
      // A gift card alone counts for nothing, not even "Any order".
      order('B', '2026-03-02T11:00:00Z', [{ sku: 'GIFT-50', category: 'gift-card', price: '50.00' }]),
      // Decaf (excluded by the filter) 8.00 and a latte 6.00: coffee spend 6.00; "Any order" 2 → bonus.
      order('C', '2026-03-02T12:00:00Z', [{ sku: 'DECAF', category: 'coffee', price: '8.00' }, latte('6.00')]),
      // Another latte 4.00: 10.00 ≥ 10.00.
      order('D', '2026-03-02T13:00:00Z', [latte('4.00')]),
    ]);
    expect(bonuses(r)).toEqual([
      ['C', 'challenge:Any order', 1],
      ['D', 'challenge:Coffee ten', 5],
    ]);
  });
});

describe('refunds', () => {
  const p = program(`program "T" {
  currency USD
  base 1 point per 1 USD
  challenge "Two a week" { orders 2 per week  bonus 100 points }
  challenge "Thirty" { spend 30 USD per week  bonus 50 points }
}`);

  it('do not un-count an order, its refunded amount still counts, and a bonus is never reversed', () => {
    const r = run(p, [
      signup('2026-06-01T00:00:00Z'),
      order('A', '2026-06-01T10:00:00Z', [{ sku: 'KETTLE', category: 'equipment', price: '25.00' }]),
      { type: 'refund', at: '2026-06-01T11:00:00Z', member: 'm', order: 'A', lines: [{ sku: 'KETTLE', qty: 1 }] },
      // A still counts: the 2nd order of the week; 25.00 + 5.00 = 30.00 reaches "Thirty".
      order('B', '2026-06-02T10:00:00Z', [latte('5.00')]),
      // Refunding B: E = 5 (base only), so −5; both bonuses stay.
      { type: 'refund', at: '2026-06-02T11:00:00Z', member: 'm', order: 'B', lines: [{ sku: 'LATTE', qty: 1 }] },
    ]);
    const ledger = r.members['m']!.ledger.map((e) => [e.kind, e.rule, e.ref, e.points]);
    expect(ledger).toEqual([
      ['earn', 'base', 'A', 25],
      ['reverse', null, 'A', -25],
      ['earn', 'base', 'B', 5],
      ['earn', 'challenge:Two a week', 'B', 100],
      ['earn', 'challenge:Thirty', 'B', 50],
      ['reverse', null, 'B', -5],
    ]);
    expect(r.members['m']!.balance).toBe(150);
  });
});

describe('the ledger order of an order', () => {
  it('is base, rules, tier, clubs, referral (referee, referrer), then challenges in source order', () => {
    const p = program(`program "T" {
  currency USD
  base 1 point per 1 USD
  challenge "Zeta first" { orders 1 per member  bonus 7 points }
  rule "Double" { multiplier 2x }
  tiers { tier A at 0 { multiplier 1.5x } }
  club "C" { multiplier 2x }
  referral { referrer 30 points  referee 20 points }
  challenge "Alpha" { spend 1 USD per day  bonus 3 points }
}`);
    const r = run(p, [
      signup('2026-01-01T00:00:00Z', 'r'),
      signup('2026-01-01T00:00:00Z', 'm', 'r'),
      { type: 'join_club', at: '2026-01-01T00:01:00Z', member: 'm', club: 'C' },
      order('A', '2026-01-02T10:00:00Z', [latte('10.00')]),
    ]);
    expect(r.members['m']!.ledger.map((e) => [e.rule, e.points])).toEqual([
      ['base', 10],
      ['Double', 10],
      ['tier:A', 5],
      ['club:C', 10],
      ['referral:referee', 20],
      ['challenge:Zeta first', 7],
      ['challenge:Alpha', 3],
    ]);
    expect(r.members['r']!.ledger.map((e) => [e.rule, e.ref, e.points])).toEqual([['referral:referrer', 'A', 30]]);
  });

  it('a challenge bonus counts toward a points tier', () => {
    const p = program(`program "T" {
  currency USD
  base 1 point per 1 USD
  tiers { qualify points  tier A at 0  tier B at 100 { multiplier 2x } }
  challenge "Welcome" { orders 1 per member  bonus 100 points }
}`);
    const r = run(p, [signup('2026-01-01T00:00:00Z'), order('A', '2026-01-02T10:00:00Z', [latte('1.00')]), order('B', '2026-01-03T10:00:00Z', [latte('1.00')])]);
    expect(r.members['m']!.tier).toBe('B');
    expect(r.members['m']!.ledger.map((e) => [e.ref, e.rule, e.points])).toEqual([
      ['A', 'base', 1],
      ['A', 'challenge:Welcome', 100],
      ['B', 'base', 1],
      ['B', 'tier:B', 1],
    ]);
  });
});

/** A tiny in-memory world for calling applyEvent directly, as the server does. */
function world() {
  const members = new Map<string, MemberState>();
  const orders = new Map<string, OrderRec>();
  const w: World = { get: (id) => members.get(id), order: (id) => orders.get(id) };
  const apply = (p: Program, value: object) => {
    const parsed = parseEvent(p, value);
    if (parsed.error !== undefined) throw new Error(parsed.error);
    const out = applyEvent(p, parsed.event as EngineEvent, w);
    for (const s of out.changed) members.set(s.id, JSON.parse(JSON.stringify(s)) as MemberState);
    if (out.order) orders.set(out.order.id, out.order);
    return out;
  };
  return { members, apply };
}

describe('member state', () => {
  const V1 = program(`program "T" {
  currency USD
  timezone "Europe/Berlin"
  base 1 point per 1 USD
}`);
  const V2 = program(`program "T" {
  currency USD
  timezone "Europe/Berlin"
  base 1 point per 1 USD
  challenge "Three a week" { orders 3 per week  bonus 30 points }
  challenge "Big week" { spend 20 USD per week  bonus 20 points }
}`);

  it('a state from before challenges (no progress field) counts from the program change on', () => {
    const { members, apply } = world();
    apply(V1, signup('2026-06-01T08:00:00Z'));
    apply(V1, order('A', '2026-06-01T09:00:00Z', [latte('15.00')]));
    const stored = members.get('m')!;
    // A state written before this engine had challenges.
    delete stored.challenges;
    // Orders under V1 do not count for V2's challenges: 2 orders, 10.00 this week.
    apply(V2, order('B', '2026-06-02T09:00:00Z', [latte('5.00')]));
    const c = apply(V2, order('C', '2026-06-03T09:00:00Z', [latte('5.00')]));
    expect(c.entries.map((e) => e.rule)).toEqual(['base']);
    const d = apply(V2, order('D', '2026-06-04T09:00:00Z', [latte('10.00')]));
    expect(d.entries.map((e) => [e.rule, e.points])).toEqual([['base', 10], ['challenge:Three a week', 30], ['challenge:Big week', 20]]);
  });

  it('progress is kept by name when challenges are added, removed or reordered, and restarts when a goal changes its metric or period', () => {
    const V3 = program(`program "T" {
  currency USD
  timezone "Europe/Berlin"
  base 1 point per 1 USD
  challenge "New" { orders 1 per member  bonus 1 point }
  challenge "Three a week" { orders 3 per week  bonus 30 points }
  challenge "Big week" { orders 3 per week  bonus 20 points }
}`);
    const { apply } = world();
    apply(V2, signup('2026-06-01T08:00:00Z'));
    apply(V2, order('A', '2026-06-01T09:00:00Z', [latte('15.00')]));
    apply(V2, order('A2', '2026-06-01T10:00:00Z', [latte('0.50')]));
    // "Three a week" keeps its 2 orders (B is the 3rd); "New" starts from
    // nothing; "Big week" is now an orders goal: its 15.50 spent is not
    // 1550 orders, so B is its first.
    const b = apply(V3, order('B', '2026-06-02T09:00:00Z', [latte('4.50')]));
    expect(b.entries.map((e) => [e.rule, e.points])).toEqual([['base', 4], ['challenge:New', 1], ['challenge:Three a week', 30]]);
  });

  it('challengeProgress reads the period of the time asked, and when it resets', () => {
    const { members, apply } = world();
    apply(V2, signup('2026-06-01T08:00:00Z'));
    apply(V2, order('A', '2026-06-03T09:00:00Z', [latte('12.50')]));
    apply(V2, order('B', '2026-06-04T09:00:00Z', [latte('8.00')]));
    const s = members.get('m')!;
    // Thursday 4 June: the week of Monday 1 June ends Monday 8 June 00:00 in Berlin (22:00Z on the 7th).
    expect(challengeProgress(V2, s, Date.parse('2026-06-04T12:00:00Z'))).toEqual([
      { name: 'Three a week', metric: 'orders', value: 2, goal: 3, period: 'week', completed: false, resetsAt: Date.parse('2026-06-07T22:00:00Z') },
      { name: 'Big week', metric: 'spend', value: 2050, goal: 2000, period: 'week', completed: true, resetsAt: Date.parse('2026-06-07T22:00:00Z') },
    ]);
    // Monday 8 June 00:00 local: a new week, nothing yet.
    expect(challengeProgress(V2, s, Date.parse('2026-06-07T22:00:00Z')).map((c) => [c.value, c.completed, c.resetsAt])).toEqual([
      [0, false, Date.parse('2026-06-14T22:00:00Z')],
      [0, false, Date.parse('2026-06-14T22:00:00Z')],
    ]);
  });
});

describe('quotes', () => {
  it('show the challenge bonus an order would reach, and record nothing', () => {
    const p = program(`program "T" {
  currency USD
  base 1 point per 1 USD
  challenge "Two a day" { orders 2 per day  bonus 10 points }
}`);
    const { members, apply } = world();
    apply(p, signup('2026-01-01T00:00:00Z'));
    apply(p, order('A', '2026-01-02T10:00:00Z', [latte('3.00')]));
    const s = members.get('m')!;
    const before = JSON.stringify(s);
    const q = quote(p, s, { at: Date.parse('2026-01-02T11:00:00Z'), lines: [{ sku: 'LATTE', category: 'coffee', qty: 1, price: 300 }] });
    expect(q.entries.map((e) => [e.rule, e.points])).toEqual([['base', 3], ['challenge:Two a day', 10]]);
    expect(q.points).toBe(13);
    expect(JSON.stringify(s)).toBe(before);
    // The next day the count starts again.
    expect(quote(p, s, { at: Date.parse('2026-01-03T11:00:00Z'), lines: [{ sku: 'LATTE', category: 'coffee', qty: 1, price: 300 }] }).points).toBe(3);
  });
});
