// A quote's "why not" (src/engine/why.ts): for each rule and challenge that
// gives an order nothing, the first reason in the engine's order of
// decision. Each expectation is worked out by hand from the program.
import { describe, expect, it } from 'vitest';
import { applyEvent, parseEvent, type EngineEvent, type MemberState, type OrderRec, type World } from '../../src/engine/index.ts';
import { quote } from '../../src/engine/view.ts';
import { program } from '../support.ts';

const P = program(`program "Why" {
  currency USD
  timezone "America/New_York"
  base 1 point per 1 USD
  exclude category "gift-card"
  rule "Weekend" { days sat, sun  bonus 10 points }
  rule "Pastry" { category "pastry"  bonus 5 points }
  rule "Big basket" { when order.total >= 20 USD  bonus 7 points }
  rule "Tenner" { extra 1 point per 10 USD }
  rule "Daily coffee" { category "coffee"  bonus 3 points  once per day }
  challenge "Three a week" { orders 3 per week  category "coffee"  bonus 100 points }
  challenge "Big month" { spend 50 USD per month  bonus 200 points }
  challenge "First" { orders 1 per member  bonus 1 point }
}`);

const line = (sku: string, category: string, price: string) => ({ sku, category, qty: 1, price });

/** Member `a`'s state after the given events (a signup first). */
function stateAfter(events: object[]): MemberState {
  const members = new Map<string, MemberState>();
  const orders = new Map<string, OrderRec>();
  const w: World = { get: (id) => members.get(id), order: (id) => orders.get(id) };
  for (const value of [{ type: 'signup', member: 'a', at: '2026-03-01T12:00:00Z' }, ...events]) {
    const parsed = parseEvent(P, value);
    if (parsed.error !== undefined) throw new Error(parsed.error);
    const out = applyEvent(P, parsed.event as EngineEvent, w);
    if (out.refusal) throw new Error(out.refusal.message);
    for (const s of out.changed) members.set(s.id, s);
    if (out.order) orders.set(out.order.id, out.order);
  }
  return members.get('a')!;
}

function why(events: object[], at: string, lines: { sku: string; category: string; qty: number; price: string }[]) {
  const q = quote(P, stateAfter(events), { at: Date.parse(at), lines: lines.map((l) => ({ ...l, price: Math.round(Number(l.price) * 100) })) });
  return q.notApplied.map((n) => [n.rule, n.reason, n.message, n.line, n.resetsAt === null ? null : new Date(n.resetsAt).toISOString()]);
}

describe('why not', () => {
  it('names the failing condition, the filter, an effect of 0 and a challenge not reached', () => {
    // Tuesday 3 Mar 2026, 10:00 New York; one coffee of 4.00:
    // Weekend: days fails. Pastry: no pastry line. Big basket: 4.00 < 20. Tenner: floor(400 × 1 / 1000) = 0.
    // Three a week: 1st counting order of 3. Big month: 4.00 of 50.00. First applies (1st order ever).
    expect(why([], '2026-03-03T15:00:00Z', [line('LATTE', 'coffee', '4.00')])).toEqual([
      ['Weekend', 'CONDITION', '`days sat, sun` does not hold for this order', 6, null],
      ['Pastry', 'NO_MATCHING_LINE', 'no eligible line of the order matches category "pastry"', 7, null],
      ['Big basket', 'CONDITION', '`when order.total >= 20 USD` does not hold for this order', 8, null],
      ['Tenner', 'NOTHING_EARNED', 'its effect comes to 0 points on this order', 9, null],
      // Weeks start on Monday 00:00 New York (EDT from 8 March: 04:00Z); months on the 1st.
      ['challenge:Three a week', 'GOAL_NOT_REACHED', '1 of 3 orders this week with this order', 11, '2026-03-09T04:00:00.000Z'],
      ['challenge:Big month', 'GOAL_NOT_REACHED', '4.00 USD of 50.00 USD this month with this order', 12, '2026-04-01T04:00:00.000Z'],
    ]);
  });

  it('says when a limit is used up and when it resets, and when a challenge is already completed', () => {
    const coffee = (id: string, at: string) => ({ type: 'order', member: 'a', id, at, lines: [line('LATTE', 'coffee', '4.00')] });
    // The day's coffee bonus was used at 09:00 New York; the member's first order is behind them.
    const r = why([coffee('o1', '2026-03-03T14:00:00Z')], '2026-03-03T16:00:00Z', [line('LATTE', 'coffee', '4.00')]);
    expect(r).toContainEqual(['Daily coffee', 'LIMIT_USED', 'its limit of 1 times per day is used up (1 today)', 10, '2026-03-04T05:00:00.000Z']);
    expect(r).toContainEqual(['challenge:First', 'ALREADY_COMPLETED', 'already completed (once ever)', 13, null]);
    expect(r).toContainEqual(['challenge:Three a week', 'GOAL_NOT_REACHED', '2 of 3 orders this week with this order', 11, '2026-03-09T04:00:00.000Z']);
  });

  it('lists nothing for what applies, and says an order of excluded lines counts for nothing', () => {
    const r = why([], '2026-03-07T15:00:00Z', [line('CARD', 'gift-card', '25.00')]);
    expect(r.map((x) => [x[0], x[1]])).toEqual([
      ['Weekend', 'NO_ELIGIBLE_LINE'],
      ['Pastry', 'NO_ELIGIBLE_LINE'],
      ['Big basket', 'NO_ELIGIBLE_LINE'],
      ['Tenner', 'NO_ELIGIBLE_LINE'],
      ['Daily coffee', 'NO_ELIGIBLE_LINE'],
      ['challenge:Three a week', 'NO_MATCHING_LINE'],
      ['challenge:Big month', 'NO_MATCHING_LINE'],
      ['challenge:First', 'NO_MATCHING_LINE'],
    ]);
    // Saturday, a pastry and a coffee of 30.00 in all: every rule applies but Tenner's 3 points do too.
    expect(why([], '2026-03-07T15:00:00Z', [line('LATTE', 'coffee', '25.00'), line('SCONE', 'pastry', '5.00')]).map((x) => x[0])).toEqual(['challenge:Three a week', 'challenge:Big month']);
  });
});
