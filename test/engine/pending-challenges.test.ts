// Pending points with challenges (dsl.md 4.9, 4.11): a challenge bonus is an
// earn entry of the order, pending with the order's other points, and a
// refund before vesting never reduces it (4.8, 4.9). Arithmetic by hand.
import { describe, expect, it } from 'vitest';
import { program, replayEvents as run } from '../support.ts';

const order = (at: string, id: string, price: string) => ({ type: 'order', at, member: 'a', id, lines: [{ sku: 'X', category: 'coffee', qty: 1, price }] });
const earn = (at: string, points: number, rule: string, ref: string) => ({ at, kind: 'earn', points, rule, ref });

describe('a challenge bonus under pending', () => {
  const P = program(`program "P" {
    currency USD
    base 1 point per 1 USD
    pending 7 days
    challenge "Two a month" { orders 2 per month  bonus 100 points }
  }`);
  // o1 (2 Jan) base 10 vests 9 Jan; o2 (3 Jan) is the 2nd order of January:
  // base 10 and the 100-point bonus vest together on 10 Jan.
  const events = [{ type: 'signup', at: '2026-01-01T10:00:00Z', member: 'a' }, order('2026-01-02T10:00:00Z', 'o1', '10.00'), order('2026-01-03T10:00:00Z', 'o2', '10.00')];

  it('waits with the order and is written at its vesting, after the order’s base', () => {
    expect(run(P, events).members['a']).toMatchObject({ balance: 0, pending: 120, ledger: [] });
    expect(run(P, [...events, { type: 'tick', at: '2026-01-20T00:00:00Z' }]).members['a']!.ledger).toEqual([
      earn('2026-01-09T10:00:00Z', 10, 'base', 'o1'),
      earn('2026-01-10T10:00:00Z', 10, 'base', 'o2'),
      earn('2026-01-10T10:00:00Z', 100, 'challenge:Two a month', 'o2'),
    ]);
  });

  it('is not reduced by a refund before vesting: E leaves it out, the base goes to 0', () => {
    // Refund of o2's only line: floor(E × R / P) = floor(10 × 10.00 / 10.00) = 10 off the base.
    const r = run(P, [...events, { type: 'refund', at: '2026-01-04T10:00:00Z', member: 'a', order: 'o2', lines: [{ sku: 'X', qty: 1 }] }, { type: 'tick', at: '2026-01-20T00:00:00Z' }]);
    expect(r.members['a']).toMatchObject({ balance: 110, pending: 0 });
    expect(r.members['a']!.ledger).toEqual([earn('2026-01-09T10:00:00Z', 10, 'base', 'o1'), earn('2026-01-10T10:00:00Z', 100, 'challenge:Two a month', 'o2')]);
  });
});
