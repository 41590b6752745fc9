// Instants before 1970 are negative epoch milliseconds. A member state once
// used -1 for "nothing due" (due, nextVestAt, lastVestAt, tierDue), so a
// vesting, an expiry or a tier change due before 1970 was taken for none:
// pending points never vested and lots never expired. States of version 7
// mark "none" with values no instant can have (state.ts NEVER).
import { describe, expect, it } from 'vitest';
import { advance, applyEvent, nextDue, parseEvent, type EngineEvent, type MemberState } from '../../src/engine/index.ts';
import { program, replayEvents } from '../support.ts';

const signup = (at: string, member = 'a') => ({ type: 'signup', at, member });
const order = (at: string, id: string, price: string, member = 'a') => ({ type: 'order', at, member, id, lines: [{ sku: 'COAT', category: 'coat', qty: 1, price }] });
const tick = (at: string) => ({ type: 'tick', at });

describe('instants before 1970', () => {
  const pending = program(`program "P" {
    currency USD
    base 1 point per 1 USD
    pending 14 days
  }`);

  it.each([false, true])('pending points vest on a tick before 1970 (states round-tripped: %s)', (serialize) => {
    // o1 at 2 Jun 1969 10:00Z: base 30, vesting 16 Jun 1969 10:00Z.
    const events = [signup('1969-06-01T09:00:00Z'), order('1969-06-02T10:00:00Z', 'o1', '30.00')];
    expect(replayEvents(pending, [...events, tick('1969-06-16T09:59:59Z')], { serializeStates: serialize }).members['a']).toMatchObject({ balance: 0, pending: 30, ledger: [] });
    expect(replayEvents(pending, [...events, tick('1969-06-20T00:00:00Z')], { serializeStates: serialize }).members['a']).toMatchObject({
      balance: 30,
      pending: 0,
      ledger: [{ at: '1969-06-16T10:00:00Z', kind: 'earn', points: 30, rule: 'base', ref: 'o1' }],
    });
  });

  it('pending points vest when the next event brings the member forward, and across 1970', () => {
    // o1 vests 16 Jun 1969; o2 (24 Dec 1969 10:00Z) vests 7 Jan 1970, after the epoch.
    const r = replayEvents(pending, [
      signup('1969-06-01T09:00:00Z'),
      order('1969-06-02T10:00:00Z', 'o1', '30.00'),
      order('1969-12-24T10:00:00Z', 'o2', '20.00'),
      tick('1970-01-08T00:00:00Z'),
    ]);
    expect(r.members['a']!.ledger.map((e) => [e.at, e.points, e.ref])).toEqual([
      ['1969-06-16T10:00:00Z', 30, 'o1'],
      ['1970-01-07T10:00:00Z', 20, 'o2'],
    ]);
  });

  it('lots expire before 1970, and the state says when', () => {
    const p = program(`program "E" {
      currency USD
      base 1 point per 1 USD
      expire { after 6 months }
    }`);
    // o1 on 2 Jan 1969 10:00Z: a lot of 40 expiring 2 Jul 1969 10:00Z.
    const events = [signup('1969-01-01T09:00:00Z'), order('1969-01-02T10:00:00Z', 'o1', '40.00')];
    const r = replayEvents(p, [...events, tick('1969-08-01T00:00:00Z')]);
    expect(r.members['a']!.ledger.map((e) => [e.at, e.kind, e.points])).toEqual([
      ['1969-01-02T10:00:00Z', 'earn', 40],
      ['1969-07-02T10:00:00Z', 'expire', -40],
    ]);
    expect(r.members['a']!.balance).toBe(0);

    // The engine's own calls, as the server makes them: the due time is the lot's expiry.
    const states = new Map<string, MemberState>();
    const world = { get: (id: string) => states.get(id), order: () => undefined };
    for (const e of events) {
      const out = applyEvent(p, parseEvent(p, e).event as EngineEvent, world);
      for (const s of out.changed) states.set(s.id, JSON.parse(JSON.stringify(s)) as MemberState);
    }
    const s = states.get('a')!;
    expect(nextDue(p, s)).toBe(Date.parse('1969-07-02T10:00:00Z'));
    expect(advance(p, s, Date.parse('1969-08-01T00:00:00Z')).map((e) => [e.kind, e.points])).toEqual([['expire', -40]]);
    expect(nextDue(p, s)).toBeNull();
  });

  it('a tier drops after its grace period before 1970', () => {
    const p = program(`program "T" {
      currency USD
      base 1 point per 1 USD
      tiers {
        qualify spend over 1 month
        tier Green at 0
        tier Silver at 100 USD
        keep 10 days
      }
    }`);
    // 150 USD on 1 Mar 1969: Silver; the spend leaves the window on 1 Apr.
    // A tick on 2 Apr finds the tier's value under Silver's: the grace of 10
    // days runs from then, to 12 Apr.
    const events = [signup('1969-02-01T00:00:00Z'), order('1969-03-01T10:00:00Z', 'o1', '150.00'), tick('1969-04-02T00:00:00Z')];
    expect(replayEvents(p, [...events, tick('1969-04-11T00:00:00Z')]).members['a']!.tier).toBe('Silver');
    expect(replayEvents(p, [...events, tick('1969-04-13T00:00:00Z')]).members['a']!.tier).toBe('Green');
  });
});
