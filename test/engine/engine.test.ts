// Targeted semantics beyond the conformance cases: exact refunds of
// discounted lines, program changes between events, quotes, member views,
// the member clock, and ticks touching only members something is due for.
import { describe, expect, it } from 'vitest';
import type { Program } from '../../dsl/index.ts';
import { advance, applyEvent, eventLine, memberView, nextDue, parseEvent, quote, Replay, rewardAvailability, type EngineEvent, type MemberState, type OrderRec, type World } from '../../src/engine/index.ts';
import { program, replayEvents as run } from '../support.ts';

/** A tiny in-memory world for calling applyEvent directly, as the server does. */
function world() {
  const members = new Map<string, MemberState>();
  const orders = new Map<string, OrderRec>();
  const w: World = { get: (id) => members.get(id), order: (id) => orders.get(id) };
  const apply = (p: Program, value: object) => {
    const parsed = parseEvent(p, value);
    if (parsed.error !== undefined) throw new Error(parsed.error);
    const out = applyEvent(p, parsed.event as EngineEvent, w);
    for (const s of out.changed) members.set(s.id, s);
    if (out.order) orders.set(out.order.id, out.order);
    return out;
  };
  return { members, orders, w, apply };
}

const CLUB = program(`program "T" {
  currency USD
  timezone "America/New_York"
  base 1 point per 1 USD
  tiers { qualify spend over lifetime  tier A at 0  tier B at 90.02 USD { multiplier 2x } }
  club "C" { discount 10% on category "x" }
}`);

describe('refunds of discounted lines', () => {
  it('take the exact (fractional) refunded amount off the spend', () => {
    // 3 × 16.67 = 50.01, less 10% (5.00) = 45.01 paid, three times: 135.03 → B.
    const order = (id: string, day: number) => ({ type: 'order', at: `2026-01-0${day}T10:00:00Z`, member: 'a', id, lines: [{ sku: 'X', category: 'x', qty: 3, price: '16.67' }] });
    const refund = (id: string, day: number) => ({ type: 'refund', at: `2026-01-0${day}T12:00:00Z`, member: 'a', order: id, lines: [{ sku: 'X', qty: 1 }] });
    const r = run(CLUB, [
      { type: 'signup', at: '2026-01-01T10:00:00Z', member: 'a' },
      { type: 'join_club', at: '2026-01-01T10:01:00Z', member: 'a', club: 'C' },
      order('o1', 2),
      order('o2', 3),
      order('o3', 4),
      // Each refund takes 45.01 / 3 = 15.00333… off: 3 × 30.00666… = 90.02 exactly,
      // still B. Rounding each order's remaining spend down would give 90.00 (A).
      refund('o1', 5),
      refund('o2', 5),
      refund('o3', 5),
      { type: 'order', at: '2026-01-06T10:00:00Z', member: 'a', id: 'o4', lines: [{ sku: 'Y', category: 'y', qty: 1, price: '10.00' }] },
    ]);
    const a = r.members.a!;
    // After o2 the spend is 90.02: B, so o3 also earns tier:B (E = 45 + 45).
    // R / P = 1/3 exactly: floor(45 / 3) = 15, floor(90 / 3) = 30.
    expect(a.ledger.filter((e) => e.kind === 'reverse').map((e) => e.points)).toEqual([-15, -15, -30]);
    expect(a.ledger.filter((e) => e.ref === 'o4').map((e) => [e.rule, e.points])).toEqual([
      ['base', 10],
      ['tier:B', 10],
    ]);
    expect(a.tier).toBe('B');
  });
});

describe('the member state across program versions', () => {
  const v1 = program(`program "T" {
  currency USD
  base 1 point per 1 USD
  rule "Coffee" { category "coffee" bonus 10 points limit once per day }
  rule "Cake" { category "cake" bonus 5 points limit once per day }
  club "Gold" { fee 10 USD per month  multiplier 2x }
}`);
  const v2 = program(`program "T" {
  currency USD
  base 1 point per 1 USD
  rule "Cake" { category "cake" bonus 5 points limit once per day }
  club "Silver" { multiplier 3x }
  club "Gold" { fee 10 USD per month  multiplier 2x }
  tiers { qualify orders over lifetime  tier A at 0  tier B at 2 }
}`);

  it('keeps limit uses and club memberships by name when rules and clubs move', () => {
    const { apply, members } = world();
    apply(v1, { type: 'signup', at: '2026-01-01T10:00:00Z', member: 'a' });
    apply(v1, { type: 'join_club', at: '2026-01-01T10:05:00Z', member: 'a', club: 'Gold' });
    const o1 = apply(v1, { type: 'order', at: '2026-01-01T11:00:00Z', member: 'a', id: 'o1', lines: [{ sku: 'K', category: 'cake', qty: 1, price: '3.00' }] });
    expect(o1.entries.map((e) => e.rule)).toEqual(['base', 'Cake', 'club:Gold']);
    // Same day under v2: "Cake" was used today (it moved from slot 1 to 0), Gold is still active.
    const state = JSON.parse(JSON.stringify(members.get('a')));
    members.set('a', state);
    const o2 = apply(v2, { type: 'order', at: '2026-01-01T12:00:00Z', member: 'a', id: 'o2', lines: [{ sku: 'K', category: 'cake', qty: 1, price: '3.00' }] });
    expect(o2.entries.map((e) => e.rule)).toEqual(['base', 'club:Gold']);
    expect(memberView(v2, members.get('a')!).clubs.map((c) => c.name)).toEqual(['Gold']);
    // The new tiers start counting from this version's orders.
    expect(memberView(v2, members.get('a')!).tier?.name).toBe('A');
  });
});

describe('quote', () => {
  it('returns what the order would earn without changing the member', () => {
    const p = program(`program "T" {
  currency USD
  base 2 points per 1 USD
  rule "Twice" { category "c" multiplier 2x limit 5 points per day }
  club "Club" { multiplier 2x  discount 50% on category "c"  perk "lounge" }
  referral { referee 100 points }
}`);
    const { apply, members, w } = world();
    apply(p, { type: 'signup', at: '2026-01-01T10:00:00Z', member: 'r' });
    apply(p, { type: 'signup', at: '2026-01-01T10:00:00Z', member: 'a', referrer: 'r' });
    apply(p, { type: 'join_club', at: '2026-01-01T10:00:00Z', member: 'a', club: 'Club' });
    const before = JSON.stringify(members.get('a'));
    const order = { at: Date.parse('2026-01-02T10:00:00Z'), lines: [{ sku: 'S', category: 'c', qty: 2, price: 500 }] };
    const q = quote(p, members.get('a')!, order);
    expect(JSON.stringify(members.get('a'))).toBe(before);
    // 10.00 less 50% = 5.00 → base 10, Twice min(10, 5) = 5, club 10, referee 100.
    expect(q.entries.map((e) => [e.rule, e.points])).toEqual([
      ['base', 10],
      ['Twice', 5],
      ['club:Club', 10],
      ['referral:referee', 100],
    ]);
    expect(q.points).toBe(125);
    expect(q.total).toBe(500);
    expect(q.discounts).toEqual([{ sku: 'S', amount: 500 }]);
    expect(q.perks).toEqual(['lounge']);
    // And the real order earns exactly what was quoted.
    const real = applyEvent(p, { type: 'order', at: order.at, member: 'a', id: 'o1', lines: order.lines }, w);
    expect(real.entries.filter((e) => e.member === 'a').map((e) => [e.rule, e.points])).toEqual(q.entries.map((e) => [e.rule, e.points]));
  });
});

describe('member view', () => {
  it('shows tier progress, grace and perks', () => {
    const p = program(`program "T" {
  currency EUR
  base 1 point per 1 EUR
  tiers {
    qualify spend over 30 days
    tier Bronze at 0
    tier Silver at 100 EUR { multiplier 1.5x  perk "free-shipping" }
    tier Gold at 250.50 EUR
    keep 7 days
  }
}`);
    const { apply, members } = world();
    apply(p, { type: 'signup', at: '2026-01-01T10:00:00Z', member: 'a' });
    apply(p, { type: 'order', at: '2026-01-02T10:00:00Z', member: 'a', id: 'o1', lines: [{ sku: 'S', category: 'c', qty: 1, price: '120.25' }] });
    const v = memberView(p, members.get('a')!);
    expect(v.tier).toEqual({ name: 'Silver', index: 1, multiplier: '1.5', discounts: [], perks: ['free-shipping'] });
    expect(v.progress).toEqual({ metric: 'spend', value: 12025, nextTier: 'Gold', remaining: 25050 - 12025, graceUntil: null });
    // 30 days later the order leaves the window: grace starts at the next evaluation.
    const s = members.get('a')!;
    expect(nextDue(p, s)).toBe(Date.parse('2026-02-01T10:00:00Z'));
    advance(p, s, Date.parse('2026-02-01T10:00:00Z'));
    expect(memberView(p, s).progress?.graceUntil).toBe(Date.parse('2026-02-08T10:00:00Z'));
    expect(memberView(p, s).tier?.name).toBe('Silver');
    advance(p, s, Date.parse('2026-02-08T10:00:00Z'));
    expect(memberView(p, s).tier?.name).toBe('Bronze');
  });
});

describe('the clock', () => {
  const p = program(`program "T" { currency USD  base 1 point per 1 USD  on birthday { bonus 10 points }  expire { after 1 month } }`);

  it('refuses an event earlier than the member’s last one', () => {
    const { apply } = world();
    apply(p, { type: 'signup', at: '2026-01-10T10:00:00Z', member: 'a' });
    const out = apply(p, { type: 'event', at: '2026-01-09T10:00:00Z', member: 'a', name: 'x' });
    expect(out.error).toMatch(/earlier than member "a"'s last event/);
  });

  it('on a tick, touches only members something falls due for', () => {
    const r = new Replay(p);
    const lines = [
      { type: 'signup', at: '2026-01-01T10:00:00Z', member: 'due', birthday: '1990-01-05' },
      { type: 'signup', at: '2026-01-01T10:00:00Z', member: 'idle' },
      { type: 'tick', at: '2026-01-06T00:00:00Z' },
    ];
    lines.forEach((e, i) => r.pushLine(JSON.stringify(e), i + 1));
    expect(r.members.get('due')!.at).toBe(Date.parse('2026-01-06T00:00:00Z'));
    expect(r.members.get('idle')!.at).toBe(Date.parse('2026-01-01T10:00:00Z'));
    expect(r.result().members.due!.ledger.map((e) => e.rule)).toEqual(['birthday']);
  });
});

describe('events from JSON', () => {
  const p = program(`program "T" { currency JPY }`);
  const msg = (v: unknown) => parseEvent(p, v).error;
  it('names what is wrong', () => {
    expect(msg([])).toBe('an event must be a JSON object');
    expect(msg({ type: 'order', at: '2026-01-01T00:00:00Z' })).toBe('missing field "member"');
    expect(msg({ type: 'order', at: '2026-01-01T00:00:00Z', member: 'a', id: 'o', lines: [{ sku: 'S', category: 'c', qty: 1, price: '1.5' }] })).toBe('field "price" in line 1 of "lines" 1.5 has more decimals than JPY allows');
    expect(msg({ type: 'order', at: '2026-01-01T00:00:00Z', member: 'a', id: 'o', lines: [{ sku: 'S', category: 'c', qty: 1, price: '1,500' }] })).toBe('field "price" in line 1 of "lines" must be a decimal string such as "4.50"');
    expect(msg({ type: 'order', at: '2026-01-01T00:00:00Z', member: 'a', id: 'o', lines: [{ sku: 'S', category: 'c', qty: 1.5, price: '1' }] })).toBe('field "qty" in line 1 of "lines" must be a positive integer');
    expect(msg({ type: 'redeem', at: '2026-01-01T00:00:00Z', member: 'a', points: -1 })).toBe('field "points" must be a positive integer');
    expect(msg({ type: 'signup', at: '2026-01-01T00:00:00Z', member: 'a', birthday: '1990-02-30' })).toBe('field "birthday" must be a date such as "1990-03-10"');
    expect(msg({ type: 'signup', at: '2026-01-01T00:00:00Z', member: 5 })).toBe('field "member" must be a string');
    expect(msg({ type: 'tick', at: '2026-01-01T00:00:00' })).toBe('field "at" has no UTC offset');
  });
  it('accepts trailing zeros and ignores unknown fields and null optionals', () => {
    const r = parseEvent(p, { type: 'order', at: '2026-01-01T00:00:00Z', member: 'a', id: 'o', lines: [{ sku: 'S', category: 'c', qty: 2, price: '500.0', note: 'x' }], channel: null, extra: 1 });
    expect(r.event).toEqual({ type: 'order', at: Date.parse('2026-01-01T00:00:00Z'), member: 'a', id: 'o', lines: [{ sku: 'S', category: 'c', qty: 2, price: 500 }], channel: null });
  });
});

describe('contributions of 0 write nothing', () => {
  it('after a per-order limit of 0, and for bonuses of 0 points', () => {
    const p = program(`program "Zero" {
  currency USD
  base 1 point per 1 USD
  rule "Capped to nothing" { bonus 10 points  limit 0 points per order }
  rule "Never per order" { bonus 5 points  limit 0 times per order }
  rule "Zero bonus" { bonus 0 points }
  on signup { bonus 0 points }
  on birthday { bonus 0 points }
  on event "review" { bonus 0 points }
}`);
    const r = run(p, [
      { type: 'signup', at: '2026-03-01T10:00:00Z', member: 'a', birthday: '1990-03-02' },
      { type: 'order', at: '2026-03-02T14:30:00Z', member: 'a', id: 'o1', lines: [{ sku: 'X', category: 'c', qty: 1, price: '10.00' }] },
      { type: 'event', at: '2026-03-03T10:00:00Z', member: 'a', name: 'review' },
    ]);
    expect(r.members.a!.ledger.map((e) => [e.rule, e.points])).toEqual([['base', 10]]);
  });
});

describe('around a DST change (New York, 1 November 2026)', () => {
  // 01:30 EDT (05:30Z) and then 01:10 EST (06:10Z): a day later on the wall
  // clock, the second comes first.
  const orders = [
    { type: 'signup', at: '2026-10-31T12:00:00Z', member: 'a' },
    { type: 'order', at: '2026-11-01T05:30:00Z', member: 'a', id: 'o1', lines: [{ sku: 'X', category: 'c', qty: 1, price: '10.00' }] },
    { type: 'order', at: '2026-11-01T06:10:00Z', member: 'a', id: 'o2', lines: [{ sku: 'X', category: 'c', qty: 1, price: '20.00' }] },
    { type: 'tick', at: '2026-11-02T06:20:00Z' },
  ];

  it('expires lots in date order, each when it falls due', () => {
    const p = program(`program "N" { currency USD  timezone "America/New_York"  base 1 point per 1 USD  expire { after 1 day } }`);
    const r = run(p, [...orders, { type: 'tick', at: '2026-11-02T07:00:00Z' }]);
    expect(r.members.a!.ledger.filter((e) => e.kind === 'expire').map((e) => [e.at, e.points])).toEqual([
      ['2026-11-02T06:10:00Z', -20],
      ['2026-11-02T06:30:00Z', -10],
    ]);
    // At the first tick only the second order's lot has expired.
    const first = run(p, orders);
    expect(first.members.a!.balance).toBe(10);
  });

  it('lets an entry leave a rolling window at its own time', () => {
    const p = program(`program "N" { currency USD  timezone "America/New_York"  base 1 point per 1 USD
  tiers { qualify spend over 1 day  tier Base at 0  tier Top at 30 USD } }`);
    // At 06:20Z on 2 November, o2 (due 06:10Z) has left the window, o1 (06:30Z) not: spend 10.
    expect(run(p, orders).members.a!.tier).toBe('Base');
  });
});

describe('tier discounts (dsl.md 2.4, 4.2 step 2)', () => {
  const p = program(`program "T" {
  currency USD
  base 1 point per 1 USD
  tiers {
    qualify spend over lifetime
    tier A at 0 { discount 10% on everything }
    tier B at 50 USD { discount 20% on category "c" }
  }
  club "K" { discount 15% on everything }
}`);
  it('use the tier at the start of the order, are not inherited, and never add up with a club', () => {
    const order = (id: string, day: number, cat: string, price: string) => ({ type: 'order', at: `2026-01-0${day}T10:00:00Z`, member: 'a', id, lines: [{ sku: cat.toUpperCase(), category: cat, qty: 1, price }] });
    const r = run(p, [
      { type: 'signup', at: '2026-01-01T10:00:00Z', member: 'a' },
      // A: 60.00 − 10% = 54.00 → 54 (the order takes her to B, which applies from the next order).
      order('o1', 2, 'c', '60.00'),
      // B: category c 20% → 8.00; category d: B has no discount for it, A's is not inherited → 10.00.
      order('o2', 3, 'c', '10.00'),
      order('o3', 4, 'd', '10.00'),
      { type: 'join_club', at: '2026-01-05T09:00:00Z', member: 'a', club: 'K' },
      // B + K: c max(20%, 15%) = 20% → 8.00; d: the club's 15% → 8.50.
      order('o4', 5, 'c', '10.00'),
      order('o5', 6, 'd', '10.00'),
    ]);
    expect(r.members['a']!.ledger.map((e) => [e.ref, e.points])).toEqual([
      ['o1', 54],
      ['o2', 8],
      ['o3', 10],
      ['o4', 8],
      ['o5', 8],
    ]);
  });
  it('apply in quotes', () => {
    const { apply, members } = world();
    apply(p, { type: 'signup', at: '2026-01-01T10:00:00Z', member: 'a' });
    const q = quote(p, members.get('a')!, { at: Date.parse('2026-01-02T10:00:00Z'), lines: [{ sku: 'S', category: 'z', qty: 3, price: 333 }] });
    // 9.99 less 10% (0.999 → 0.99) = 9.00.
    expect(q.discounts).toEqual([{ sku: 'S', amount: 99 }]);
    expect(q.total).toBe(900);
    expect(q.points).toBe(9);
    expect(memberView(p, members.get('a')!).tier).toMatchObject({ name: 'A', discounts: [{ percent: '10', categories: null }] });
  });
});

describe('rewards catalog (dsl.md 2.9, 4.10)', () => {
  const p = program(`program "R" {
  currency USD
  timezone "America/New_York"
  base 1 point per 1 USD
  tiers { tier A at 0  tier B at 100 USD }
  club "C" { fee 5 USD per month }
  expire { after 30 days inactivity }
  reward "Mug" { cost 50 points  when member.tier >= B or member.club "C"  limit 2 times per week  value 9.99 USD }
  reward "Pin" { cost 10 points  once per member }
}`);
  const order = (at: string, id: string, price: string) => ({ type: 'order', at, member: 'a', id, lines: [{ sku: 'S', category: 'c', qty: 1, price }] });

  it('parses redeem_reward, and eventLine writes it back', () => {
    const r = parseEvent(p, { type: 'redeem_reward', at: '2026-03-02T10:00:00Z', member: 'a', reward: 'Mug', extra: 1 });
    expect(r.event).toEqual({ type: 'redeem_reward', at: Date.parse('2026-03-02T10:00:00Z'), member: 'a', reward: 'Mug' });
    expect(eventLine(p, r.event!)).toBe('{"type":"redeem_reward","at":"2026-03-02T10:00:00Z","member":"a","reward":"Mug"}');
    expect(parseEvent(p, JSON.parse(eventLine(p, r.event!))).event).toEqual(r.event);
    expect(parseEvent(p, { type: 'redeem_reward', at: '2026-03-02T10:00:00Z', member: 'a' }).error).toBe('missing field "reward"');
    expect(parseEvent(p, { type: 'redeem_reward', at: '2026-03-02T10:00:00Z', member: 'a', reward: 3 }).error).toBe('field "reward" must be a string');
  });

  it('writes a redeem entry of −cost with rule reward:NAME; refusals carry their code; limits by calendar week from Monday', () => {
    const { apply } = world();
    apply(p, { type: 'signup', at: '2026-03-01T10:00:00Z', member: 'a' });
    apply(p, order('2026-03-01T11:00:00Z', 'o1', '200.00'));
    const redeem = (at: string, reward: string) => apply(p, { type: 'redeem_reward', at, member: 'a', reward });
    // Sunday 1 March: tier B now (spend 200).
    const r1 = redeem('2026-03-01T12:00:00Z', 'Mug');
    expect(r1.refusal).toBeNull();
    expect(r1.entries).toMatchObject([{ kind: 'redeem', points: -50, rule: 'reward:Mug', ref: null }]);
    expect(redeem('2026-03-01T13:00:00Z', 'Mug').refusal).toBeNull();
    expect(redeem('2026-03-01T14:00:00Z', 'Mug').refusal).toMatchObject({ code: 'REWARD_LIMIT_REACHED', used: 2, limit: 2 });
    // Monday 2 March (New York): a new week.
    expect(redeem('2026-03-02T14:00:00Z', 'Mug').refusal).toBeNull();
    expect(redeem('2026-03-02T15:00:00Z', 'Pin').refusal).toBeNull();
    expect(redeem('2026-03-03T15:00:00Z', 'Pin').refusal).toMatchObject({ code: 'REWARD_LIMIT_REACHED' });
    expect(redeem('2026-03-03T16:00:00Z', 'pin').refusal).toMatchObject({ code: 'UNKNOWN_REWARD', message: 'unknown reward "pin"' });
    // Balance 200 − 150 − 10 = 40 < 50.
    expect(redeem('2026-03-03T17:00:00Z', 'Mug').refusal).toMatchObject({ code: 'INSUFFICIENT_POINTS', requested: 50, balance: 40 });
  });

  it('reports availability and why not, and a redemption is activity for inactivity expiry', () => {
    const { apply, members } = world();
    apply(p, { type: 'signup', at: '2026-03-01T10:00:00Z', member: 'a' });
    apply(p, order('2026-03-01T11:00:00Z', 'o1', '80.00'));
    const t = Date.parse('2026-03-05T10:00:00Z');
    const av = rewardAvailability(p, members.get('a')!, t);
    expect(av.map((x) => [x.name, x.available, x.refusal?.code ?? null])).toEqual([
      ['Mug', false, 'REWARD_CONDITION_FALSE'],
      ['Pin', true, null],
    ]);
    expect(av[0]).toMatchObject({ cost: 50, value: 999, used: 0, limit: { amount: 2, period: 'week' } });
    expect(av[0]!.refusal!.condition).toBe('member.tier >= B or member.club "C"');
    apply(p, { type: 'join_club', at: '2026-03-05T10:00:00Z', member: 'a', club: 'C' });
    expect(apply(p, { type: 'redeem_reward', at: '2026-03-20T10:00:00Z', member: 'a', reward: 'Mug' }).refusal).toBeNull();
    // 30 days after the redemption (not after the order) the rest (30) expires.
    const r = run(p, [
      { type: 'signup', at: '2026-03-01T10:00:00Z', member: 'a' },
      order('2026-03-01T11:00:00Z', 'o1', '80.00'),
      { type: 'join_club', at: '2026-03-05T10:00:00Z', member: 'a', club: 'C' },
      { type: 'redeem_reward', at: '2026-03-20T10:00:00Z', member: 'a', reward: 'Mug' },
      { type: 'redeem_reward', at: '2026-04-10T10:00:00Z', member: 'a', reward: 'Mug' },
      { type: 'tick', at: '2026-04-25T00:00:00Z' },
    ]);
    expect(r.members.a!.ledger.map((e) => [e.at, e.kind, e.points, e.rule])).toEqual([
      ['2026-03-01T11:00:00Z', 'earn', 80, 'base'],
      ['2026-03-20T10:00:00Z', 'redeem', -50, 'reward:Mug'],
      ['2026-04-19T10:00:00Z', 'expire', -30, null],
    ]);
    // The April redemption was refused: the club (one month from 5 March) had ended.
    expect(r.errors.map((e) => e.line)).toEqual([5]);
  });
});

describe('reward limits across program versions', () => {
  it('keep the count of a reward with the same name, and start afresh for a new one', () => {
    const v1 = program(`program "T" {
  currency USD
  base 1 point per 1 USD
  reward "Mug" { cost 10 points  once per month }
}`);
    const v2 = program(`program "T" {
  currency USD
  base 1 point per 1 USD
  rule "R" { bonus 1 point  once per day }
  reward "Pin" { cost 5 points  once per month }
  reward "Mug" { cost 10 points  limit 1 times per month }
}`);
    const { apply } = world();
    apply(v1, { type: 'signup', at: '2026-01-01T10:00:00Z', member: 'a' });
    apply(v1, { type: 'order', at: '2026-01-01T11:00:00Z', member: 'a', id: 'o1', lines: [{ sku: 'S', category: 'c', qty: 1, price: '100.00' }] });
    expect(apply(v1, { type: 'redeem_reward', at: '2026-01-02T10:00:00Z', member: 'a', reward: 'Mug' }).refusal).toBeNull();
    expect(apply(v2, { type: 'redeem_reward', at: '2026-01-03T10:00:00Z', member: 'a', reward: 'Mug' }).refusal).toMatchObject({ code: 'REWARD_LIMIT_REACHED' });
    expect(apply(v2, { type: 'redeem_reward', at: '2026-01-03T11:00:00Z', member: 'a', reward: 'Pin' }).refusal).toBeNull();
    expect(apply(v2, { type: 'redeem_reward', at: '2026-02-01T11:00:00Z', member: 'a', reward: 'Mug' }).refusal).toBeNull();
  });
});
