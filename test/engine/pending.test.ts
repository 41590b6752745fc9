// Pending points (dsl.md 2.1, 4.1, 4.5, 4.7–4.9) beyond conformance case 22:
// each case's arithmetic is worked out by hand in its comments.
import { describe, expect, it } from 'vitest';
import { advance, applyEvent, nextDue, parseEvent, vestingsOf, Replay, type EngineEvent, type MemberState, type OrderRec, type World } from '../../src/engine/index.ts';
import { program, replayEvents as run } from '../support.ts';

const signup = (at: string, member = 'a', extra: object = {}) => ({ type: 'signup', at, member, ...extra });
const order = (at: string, id: string, lines: [string, string, number, string][], member = 'a') => ({
  type: 'order',
  at,
  member,
  id,
  lines: lines.map(([sku, category, qty, price]) => ({ sku, category, qty, price })),
});
const refund = (at: string, id: string, sku: string, qty = 1, member = 'a') => ({ type: 'refund', at, member, order: id, lines: [{ sku, qty }] });
const tick = (at: string) => ({ type: 'tick', at });
const earn = (at: string, points: number, rule: string, ref: string | null) => ({ at, kind: 'earn', points, rule, ref });

describe('pending points', () => {
  const P = program(`program "P" {
    currency USD
    base 1 point per 1 USD
    pending 14 days
    rule "Scarf bonus" { category "scarf"  bonus 20 points }
    redeem { rate 100 points = 1 USD }
  }`);

  it('vest on a tick at exactly the vesting instant, dated then; before it they are only pending', () => {
    // o1 at 1 Mar 10:00Z: base 30 → vests 15 Mar 10:00Z (14 days on the UTC wall clock).
    const events = [signup('2026-03-01T09:00:00Z'), order('2026-03-01T10:00:00Z', 'o1', [['COAT', 'coat', 1, '30.00']])];
    const before = run(P, [...events, tick('2026-03-15T09:59:59Z')]).members['a']!;
    expect(before).toMatchObject({ balance: 0, pending: 30, ledger: [] });
    const at = run(P, [...events, tick('2026-03-15T10:00:00Z')]).members['a']!;
    expect(at).toMatchObject({ balance: 30, pending: 0, ledger: [earn('2026-03-15T10:00:00Z', 30, 'base', 'o1')] });
  });

  it('refuse a redemption while the points are still pending, and accept it once they vest', () => {
    // base 150 pending until 15 Mar; the redeem of 100 on 10 Mar sees a balance of 0.
    const r = run(P, [
      signup('2026-03-01T09:00:00Z'),
      order('2026-03-01T10:00:00Z', 'o1', [['COAT', 'coat', 1, '150.00']]),
      { type: 'redeem', at: '2026-03-10T10:00:00Z', member: 'a', points: 100 },
      { type: 'redeem', at: '2026-03-16T10:00:00Z', member: 'a', points: 100 },
    ]);
    expect(r.errors).toEqual([{ line: 3, message: 'redeem of 100 exceeds the balance of 0' }]);
    expect(r.members['a']).toMatchObject({ balance: 50, pending: 0 });
    expect(r.members['a']!.ledger.map((e) => [e.kind, e.points, e.at])).toEqual([
      ['earn', 150, '2026-03-15T10:00:00Z'],
      ['redeem', -100, '2026-03-16T10:00:00Z'],
    ]);
  });

  it('take a refund before vesting off the contributions base first, each down to 0, and reverse the rest after', () => {
    // o1: COAT 20.00 + SCARF 10.00 → base 30, Scarf bonus 20; E = 50, P = 30.00.
    // Refund of the coat before vesting: floor(50 × 20 / 30) = floor(33.33) = 33 →
    // base 30 → 0, Scarf bonus 20 → 17. At vesting only the 17 is written (base 0
    // writes nothing). Refund of the scarf after: floor(50 × 30 / 30) − 33 = 17 → −17.
    const events = [
      signup('2026-03-01T09:00:00Z'),
      order('2026-03-01T10:00:00Z', 'o1', [
        ['COAT', 'coat', 1, '20.00'],
        ['SCARF', 'scarf', 1, '10.00'],
      ]),
      refund('2026-03-02T10:00:00Z', 'o1', 'COAT'),
    ];
    const mid = run(P, events).members['a']!;
    expect(mid).toMatchObject({ balance: 0, pending: 17, ledger: [] });
    const end = run(P, [...events, tick('2026-03-15T10:00:00Z'), refund('2026-03-20T10:00:00Z', 'o1', 'SCARF')]).members['a']!;
    expect(end.ledger).toEqual([earn('2026-03-15T10:00:00Z', 17, 'Scarf bonus', 'o1'), { at: '2026-03-20T10:00:00Z', kind: 'reverse', points: -17, rule: null, ref: 'o1' }]);
    expect(end).toMatchObject({ balance: 0, pending: 0 });
  });

  it('refer vested entries to their order when a duplicate of its id brings the member to the vesting', () => {
    // o1 at 1 Mar 10:00Z: base 30 vests 15 Mar 10:00Z. A second "o1" on 20 Mar
    // is refused as a duplicate; bringing the member to it first writes the
    // vesting, whose ref is the accepted o1 (the replay must not take it for
    // the refused order being applied).
    const events = [signup('2026-03-01T09:00:00Z'), order('2026-03-01T10:00:00Z', 'o1', [['COAT', 'coat', 1, '30.00']]), order('2026-03-20T10:00:00Z', 'o1', [['COAT', 'coat', 1, '30.00']])];
    const r = new Replay(P);
    events.forEach((e, i) => r.pushLine(JSON.stringify(e), i + 1));
    const expected = [earn('2026-03-15T10:00:00Z', 30, 'base', 'o1')];
    expect(r.result().members['a']!.ledger).toEqual(expected);
    expect((JSON.parse([...r.resultJsonChunks()].join('')) as { members: { a: { ledger: unknown } } }).members.a.ledger).toEqual(expected);
    expect(r.errors.map((e) => e.line)).toEqual([3]);
  });

  it('write orders vesting at the same instant in the order they were placed', () => {
    const r = run(P, [
      signup('2026-03-01T09:00:00Z'),
      order('2026-03-01T10:00:00Z', 'o2', [['SCARF', 'scarf', 1, '5.00']]),
      order('2026-03-01T10:00:00Z', 'o1', [['COAT', 'coat', 1, '7.00']]),
      tick('2026-04-01T00:00:00Z'),
    ]);
    expect(r.members['a']!.ledger).toEqual([
      earn('2026-03-15T10:00:00Z', 5, 'base', 'o2'),
      earn('2026-03-15T10:00:00Z', 20, 'Scarf bonus', 'o2'),
      earn('2026-03-15T10:00:00Z', 7, 'base', 'o1'),
    ]);
  });
});

describe('pending points and time (4.1, 4.7)', () => {
  // New York falls back on 1 Nov 2026 at 02:00 EDT (06:00Z) to 01:00 EST. o1 at
  // 05:30Z is 01:30 EDT, o2 at 06:10Z is 01:10 EST (later, yet earlier on the
  // wall clock), o3 at 07:00Z is 02:00 EST. 14 days later on the wall clock
  // (EST all along): o1 15 Nov 01:30 EST = 06:30Z, o2 01:10 EST = 06:10Z,
  // o3 02:00 EST = 07:00Z. So o2, placed second, vests first.
  const NY = program(`program "NY" {
    currency USD
    timezone "America/New_York"
    base 1 point per 1 USD
    pending 14 days
  }`);
  const coat = (price: string): [string, string, number, string] => ['COAT', 'coat', 1, price];

  it('vest an order placed later but due sooner (a DST change) first, then the others in order', () => {
    const r = run(NY, [
      signup('2026-10-20T12:00:00Z'),
      order('2026-11-01T05:30:00Z', 'o1', [coat('7.00')]),
      order('2026-11-01T06:10:00Z', 'o2', [coat('5.00')]),
      order('2026-11-01T07:00:00Z', 'o3', [coat('3.00')]),
      tick('2026-11-15T06:20:00Z'),
      tick('2026-11-15T08:00:00Z'),
    ]);
    expect(r.members['a']!.ledger).toEqual([earn('2026-11-15T06:10:00Z', 5, 'base', 'o2'), earn('2026-11-15T06:30:00Z', 7, 'base', 'o1'), earn('2026-11-15T07:00:00Z', 3, 'base', 'o3')]);
  });

  it('keep the vestings in the order scheduled around a DST change, due at the soonest', () => {
    const states = new Map<string, MemberState>();
    const w: World = { get: (id) => states.get(id), order: () => undefined };
    const apply = (e: object) => {
      const out = applyEvent(NY, parseEvent(NY, e).event as EngineEvent, w);
      for (const s of out.changed) states.set(s.id, s);
      return out;
    };
    apply(signup('2026-10-20T12:00:00Z'));
    for (const [at, id, price] of [['2026-11-01T05:30:00Z', 'o1', '7.00'], ['2026-11-01T06:10:00Z', 'o2', '5.00'], ['2026-11-01T07:00:00Z', 'o3', '3.00']] as const) apply(order(at, id, [coat(price)]));
    const s = states.get('a')!;
    expect(vestingsOf(s).map((v) => [v.order, new Date(v.at).toISOString()])).toEqual([
      ['o1', '2026-11-15T06:30:00.000Z'],
      ['o2', '2026-11-15T06:10:00.000Z'],
      ['o3', '2026-11-15T07:00:00.000Z'],
    ]);
    expect(nextDue(NY, s)).toBe(Date.parse('2026-11-15T06:10:00Z'));
    expect(advance(NY, s, Date.parse('2026-11-15T06:20:00Z')).map((e) => [e.ref, e.points])).toEqual([['o2', 5]]);
    expect(vestingsOf(s).map((v) => v.order)).toEqual(['o1', 'o3']);
    expect(nextDue(NY, s)).toBe(Date.parse('2026-11-15T06:30:00Z'));
    // Stored and read back, the state vests the same.
    const back = JSON.parse(JSON.stringify(s)) as MemberState;
    expect(advance(NY, back, Date.parse('2026-11-15T08:00:00Z')).map((e) => [e.ref, e.points, new Date(e.at).toISOString()])).toEqual([
      ['o1', 7, '2026-11-15T06:30:00.000Z'],
      ['o3', 3, '2026-11-15T07:00:00.000Z'],
    ]);
    expect([back.vesting, back.vestingNames, nextDue(NY, back)]).toEqual([[], [], null]);
  });

  it('on one instant: expiry, then vesting, then the birthday bonus; vested lots expire from the vesting time', () => {
    // Signup 1 Mar 00:00Z: 50 (not pending), a lot due 15 Mar 00:00Z. o1 at the same
    // instant: base 40 vesting 15 Mar 00:00Z, which is also the birthday's 00:00.
    // At 15 Mar: expire −50, earn 40 (base), earn 25 (birthday). The vested 40 is a
    // lot due 29 Mar 00:00Z (vesting + 14 days), not 15 Mar (order + 14 days).
    const p = program(`program "T" {
      currency USD
      base 1 point per 1 USD
      pending 14 days
      on signup { bonus 50 points }
      on birthday { bonus 25 points }
      expire { after 14 days }
    }`);
    const events = [signup('2026-03-01T00:00:00Z', 'a', { birthday: '1990-03-15' }), order('2026-03-01T00:00:00Z', 'o1', [['BAG', 'bag', 1, '40.00']]), tick('2026-03-15T00:00:00Z')];
    const r = run(p, events).members['a']!;
    expect(r.ledger).toEqual([
      earn('2026-03-01T00:00:00Z', 50, 'signup', null),
      { at: '2026-03-15T00:00:00Z', kind: 'expire', points: -50, rule: null, ref: null },
      earn('2026-03-15T00:00:00Z', 40, 'base', 'o1'),
      earn('2026-03-15T00:00:00Z', 25, 'birthday', null),
    ]);
    const later = run(p, [...events, tick('2026-03-28T23:59:00Z'), tick('2026-03-29T00:00:00Z')]).members['a']!;
    expect(later.ledger.slice(4)).toEqual([{ at: '2026-03-29T00:00:00Z', kind: 'expire', points: -65, rule: null, ref: null }]);
    expect(later.balance).toBe(0);
  });

  it('count vested points for the points tier metric from the vesting time', () => {
    // o1 on 1 Mar: base 150, vesting 15 Mar. Silver needs 100 points over 30 days.
    // 14 Mar: still Member (nothing written). 15 Mar: Silver. The 150 count in the
    // window from 15 Mar, so they leave it on 14 Apr (not 31 Mar, 30 days after the order).
    const p = program(`program "T" {
      currency USD
      base 1 point per 1 USD
      pending 14 days
      tiers { qualify points over 30 days  tier Member at 0  tier Silver at 100 }
    }`);
    const base = [signup('2026-03-01T00:00:00Z'), order('2026-03-01T10:00:00Z', 'o1', [['BAG', 'bag', 1, '150.00']])];
    const tierAfter = (...ticks: string[]) => run(p, [...base, ...ticks.map(tick)]).members['a']!.tier;
    expect(tierAfter('2026-03-15T09:59:00Z')).toBe('Member');
    expect(tierAfter('2026-03-15T10:00:00Z')).toBe('Silver');
    expect(tierAfter('2026-03-15T10:00:00Z', '2026-04-14T09:59:00Z')).toBe('Silver');
    expect(tierAfter('2026-03-15T10:00:00Z', '2026-04-14T10:00:00Z')).toBe('Member');
  });
});

describe('a pending referral', () => {
  // kim (referred by jon) orders 25.00: base 25 + referral:referee 50 pending for kim,
  // referral:referrer 100 pending in jon's state, all vesting 15 Mar 12:00Z. kim's
  // full refund before vesting: floor(25 × 25 / 25) = 25 off the base → 0; the
  // referee's 50 and jon's 100 are not reduced (4.8, 4.9).
  const p = program(`program "T" {
    currency USD
    base 1 point per 1 USD
    pending 14 days
    referral { referrer 100 points  referee 50 points }
  }`);
  const events = [
    signup('2026-03-01T00:00:00Z', 'jon'),
    signup('2026-03-01T01:00:00Z', 'kim', { referrer: 'jon' }),
    order('2026-03-01T12:00:00Z', 'k1', [['BEANS', 'coffee', 1, '25.00']], 'kim'),
    refund('2026-03-02T12:00:00Z', 'k1', 'BEANS', 1, 'kim'),
  ];

  it('keeps the referrer reward pending in the referrer state, untouched by the refund', () => {
    const r = run(p, events);
    expect(r.members['kim']).toMatchObject({ balance: 0, pending: 50 });
    expect(r.members['jon']).toMatchObject({ balance: 0, pending: 100 });
  });

  it('writes both rewards when each member is brought to the vesting instant', () => {
    const r = run(p, [...events, tick('2026-03-15T12:00:00Z')]);
    expect(r.members['kim']).toMatchObject({ balance: 50, pending: 0, ledger: [earn('2026-03-15T12:00:00Z', 50, 'referral:referee', 'k1')] });
    expect(r.members['jon']).toMatchObject({ balance: 100, pending: 0, ledger: [earn('2026-03-15T12:00:00Z', 100, 'referral:referrer', 'k1')] });
  });
});

describe('the pending state, as the server keeps it', () => {
  const p = program(`program "T" {
    currency USD
    base 1 point per 1 USD
    pending 1 week
  }`);

  /** applyEvent with every state stored as JSON in between, as the server does. */
  function jsonWorld() {
    const members = new Map<string, string>();
    const orders = new Map<string, OrderRec>();
    const w: World = { get: (id) => (members.has(id) ? (JSON.parse(members.get(id)!) as MemberState) : undefined), order: (id) => orders.get(id) };
    const apply = (value: object) => {
      const parsed = parseEvent(p, value);
      if (parsed.error !== undefined) throw new Error(parsed.error);
      const out = applyEvent(p, parsed.event as EngineEvent, w);
      for (const s of out.changed) members.set(s.id, JSON.stringify(s));
      if (out.order) orders.set(out.order.id, out.order);
      return out;
    };
    return { w, apply };
  }

  it('survives JSON between events and is due at the vesting instant', () => {
    const { w, apply } = jsonWorld();
    apply(signup('2026-03-01T00:00:00Z'));
    expect(apply(order('2026-03-01T10:00:00Z', 'o1', [['BAG', 'bag', 1, '12.00']])).entries).toEqual([]);
    const s = w.get('a')!;
    // One vesting: at, seq, one contribution (12 points, line 3); its order id and rule.
    expect([s.vesting, s.vestingNames]).toEqual([[Date.parse('2026-03-08T10:00:00Z'), 1, 1, 12, 3], ['o1', 'base']]);
    expect(vestingsOf(s)).toEqual([{ order: 'o1', seq: 1, at: Date.parse('2026-03-08T10:00:00Z'), contributions: [{ rule: 'base', points: 12, line: 3 }] }]);
    expect(nextDue(p, s)).toBe(Date.parse('2026-03-08T10:00:00Z'));
    const written = advance(p, s, Date.parse('2026-03-09T00:00:00Z'));
    expect(written.map((e) => [e.at, e.points, e.rule, e.ref])).toEqual([[Date.parse('2026-03-08T10:00:00Z'), 12, 'base', 'o1']]);
    expect(s.balance).toBe(12);
    expect([s.vesting, s.vestingNames]).toEqual([[], []]);
  });

  it('reads a state stored before pending points existed (version 5, no vesting field) as having none', () => {
    const { w, apply } = jsonWorld();
    apply(signup('2026-03-01T00:00:00Z'));
    const s = w.get('a')!;
    const stored = s as unknown as Record<string, unknown>;
    delete stored.vesting;
    delete stored.vestingNames;
    stored.v = 5;
    expect(advance(p, s, Date.parse('2026-04-01T00:00:00Z'))).toEqual([]);
    expect(nextDue(p, s)).toBeNull();
  });
});

// Replay keeps members' due times in a column that a tick scans only once
// some member is due by then (replay.ts DueTimes): each tick must bring
// forward exactly the members due by it, however their due times were set.
describe('ticks bring forward exactly the members due', () => {
  const P = program(`program "P" {
    currency USD
    base 1 point per 1 USD
    pending 14 days
  }`);

  it('members due at different ticks, due times set after a tick that found nothing due, each vest at the first tick after their instant', () => {
    // a orders on 1 Mar (vests 15 Mar 10:00), b on 3 Mar (vests 17 Mar
    // 10:00), c on 2 Mar (vests 16 Mar 10:00) after a tick that found
    // nothing due. Tick 16 Mar 00:00: only a (15 Mar) is due. Tick 16 Mar
    // 12:00: c. Tick 18 Mar: b. Each earn is dated at its vesting instant
    // and written by the first tick after it; nothing is pending at the end.
    const u = '2026-03-01T00:00:00Z';
    const r = new Replay(P);
    const lines: object[] = [
      signup(u, 'a'),
      signup(u, 'b'),
      signup(u, 'c'),
      order('2026-03-01T10:00:00Z', 'o1', [['x', 'misc', 1, '10.00']], 'a'),
      tick('2026-03-02T00:00:00Z'),
      order('2026-03-02T10:00:00Z', 'o3', [['x', 'misc', 1, '30.00']], 'c'),
      order('2026-03-03T10:00:00Z', 'o2', [['x', 'misc', 1, '20.00']], 'b'),
      tick('2026-03-16T00:00:00Z'),
    ];
    lines.forEach((e, i) => r.pushLine(JSON.stringify(e), i + 1));
    const at16 = r.result();
    expect(at16.members.a!.ledger).toEqual([earn('2026-03-15T10:00:00Z', 10, 'base', 'o1')]);
    expect(at16.members.c!.ledger).toEqual([]);
    expect(at16.members.b!.ledger).toEqual([]);
    expect([at16.members.a!.pending, at16.members.b!.pending, at16.members.c!.pending]).toEqual([0, 20, 30]);
    r.pushLine(JSON.stringify(tick('2026-03-16T12:00:00Z')), 9);
    const atNoon = r.result();
    expect(atNoon.members.c!.ledger).toEqual([earn('2026-03-16T10:00:00Z', 30, 'base', 'o3')]);
    expect(atNoon.members.b!.pending).toBe(20);
    r.pushLine(JSON.stringify(tick('2026-03-18T00:00:00Z')), 10);
    const end = r.result();
    expect(end.members.b!.ledger).toEqual([earn('2026-03-17T10:00:00Z', 20, 'base', 'o2')]);
    expect(Object.values(end.members).map((m) => [m.balance, m.pending])).toEqual([
      [10, 0],
      [20, 0],
      [30, 0],
    ]);
  });
});
