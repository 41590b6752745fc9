// Member states of older versions, as the database holds them: version 4
// (short field names: m, msum, mfrac, lim; order records with e, p, rev),
// from before version 5, version 5 (pending points as an object a
// vesting, with an array and an object a contribution), from before version
// 6 (the two flat lists vesting and vestingNames), and version 6 (-1 for
// "none" among the due times), from before version 7. Each fixture was
// written by the engine of its time (version 4: main at 6f333e6; version 5:
// main at 65eaa66; version 6: main at 15bfc20), applying each conformance
// case's events one by one (versions 5 and 6 also the benchmark program on a
// small generated stream with refunds, fixtures/v5-coffee-v2.jsonl): the
// states and order records halfway through, and at the end. Upgraded and
// continued under today's engine, they must end exactly where a run of
// today's engine ends.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, type Program } from '../../dsl/index.ts';
import { advance, applyEvent, nextDue, parseEvent, upgradeOrder, upgradeState, vestingsOf, type EngineEvent, type MemberState, type OrderRec, type Vesting } from '../../src/engine/index.ts';
import { EARLIER, NEVER } from '../../src/engine/state.ts';
import { conformanceCases, conformanceNextCases, ROOT, type Case } from '../support.ts';

interface Snapshot {
  states: Record<string, unknown>[];
  orders: Record<string, unknown>[];
}
type Fixture = Record<string, { split: number; mid: Snapshot; final: Snapshot }>;
const readFixture = (name: string) => JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8')) as Fixture;

const coffeeV2: Case = { name: 'coffee-chain-v2', program: join(ROOT, 'bench', 'coffee-chain-v2.loyalty'), events: join(import.meta.dirname, 'fixtures', 'v5-coffee-v2.jsonl'), expected: '' };
const allCases = [...conformanceCases(), ...conformanceNextCases(), coffeeV2];

function load(c: Case): { program: Program; events: EngineEvent[] } {
  const program = compile(readFileSync(c.program, 'utf8'), 'program.loyalty').program!;
  const events = readFileSync(c.events, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .flatMap((l) => {
      try {
        const ev = parseEvent(program, JSON.parse(l)).event;
        return ev ? [ev] : [];
      } catch {
        return [];
      }
    });
  return { program, events };
}

/** Applies events[from..] to the states and orders given, as the fixture was written. */
function drive(program: Program, events: EngineEvent[], from: number, start: { states: MemberState[]; orders: OrderRec[] }) {
  const states = new Map(start.states.map((s) => [s.id, s]));
  const orders = new Map(start.orders.map((o) => [o.id, o]));
  const world = { get: (id: string) => states.get(id), order: (id: string) => orders.get(id) };
  const entries: unknown[] = [];
  for (const ev of events.slice(from)) {
    if (ev.type === 'tick') {
      for (const s of states.values()) entries.push(...advance(program, s, ev.at));
      continue;
    }
    const o = applyEvent(program, ev, world);
    entries.push(...o.entries, o.error);
    for (const s of o.changed) states.set(s.id, s);
    if (o.order) orders.set(o.order.id, o.order);
  }
  const plain = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;
  return { states: plain([...states.values()].sort((a, b) => a.id.localeCompare(b.id))), orders: plain([...orders.values()].sort((a, b) => a.id.localeCompare(b.id))), entries: plain(entries) };
}

/** A snapshot upgraded, sharing nothing with it (upgradeOrder returns a current
 * record as it is, and drive writes the records it refunds). */
const upgraded = (snap: Snapshot) => {
  const copy = structuredClone(snap);
  return { states: copy.states.map((s) => upgradeState(s) as MemberState), orders: copy.orders.map((o) => upgradeOrder(o) as OrderRec) };
};

const byId = <T extends { id: string }>(xs: T[]) => [...xs].sort((a, b) => a.id.localeCompare(b.id));

/** What marks a stored state of each version: [v, short names (4), vestings as objects (4 and 5)]. */
const marks = (s: Record<string, unknown>): [unknown, boolean, boolean] => [s.v, 'm' in s && 'lim' in s && !('metricEntries' in s), Array.isArray(s.vesting) && s.vesting.some((x) => typeof x === 'object') && !('vestingNames' in s)];

describe.each([
  { version: 4, fixture: readFixture('v4-states.json') },
  { version: 5, fixture: readFixture('v5-states.json') },
  { version: 6, fixture: readFixture('v6-states.json') },
])('state version $version', ({ version, fixture }) => {
  const cases = allCases.filter((c) => fixture[c.name] !== undefined);

  it('the fixture covers its cases and holds states of its version', () => {
    expect(cases.length).toBe(Object.keys(fixture).length);
    const all = Object.values(fixture).flatMap((f) => [...f.mid.states, ...f.final.states]);
    expect(all.length).toBeGreaterThan(20);
    for (const s of all) expect(marks(s).slice(0, 2)).toEqual([version, version === 4]);
    // Version 5's states hold pending vestings (objects) halfway through: the upgrade has something to flatten.
    if (version === 5) expect(Object.values(fixture).flatMap((f) => f.mid.states).filter((s) => marks(s)[2]).length).toBeGreaterThan(5);
  });

  it.each(cases)('$name: upgraded halfway and continued, it ends as today’s run does', (c) => {
    const { program, events } = load(c);
    const f = fixture[c.name]!;
    const today = drive(program, events, 0, { states: [], orders: [] });
    const todayMid = drive(program, events.slice(0, f.split), 0, { states: [], orders: [] });
    // The upgrade of the old engine's halfway states is today's halfway state.
    expect(byId(f.mid.states.map((s) => upgradeState(s) as MemberState))).toEqual(todayMid.states);
    expect(byId(f.mid.orders.map((o) => upgradeOrder(o) as OrderRec))).toEqual(todayMid.orders);
    const resumed = drive(program, events, f.split, upgraded(f.mid));
    expect(resumed.states).toEqual(today.states);
    expect(resumed.orders).toEqual(today.orders);
    expect(resumed.entries).toEqual(drive(program, events, f.split, { states: todayMid.states, orders: todayMid.orders }).entries);
    // And the old engine's end, upgraded, is today's end.
    expect(byId(f.final.states.map((s) => upgradeState(s) as MemberState))).toEqual(today.states);
    expect(byId(f.final.orders.map((o) => upgradeOrder(o) as OrderRec))).toEqual(today.orders);
  });

  it.each(cases)('$name: the engine reads a stored state handed to it as it is', (c) => {
    const { program, events } = load(c);
    const f = fixture[c.name]!;
    const raw = structuredClone(f.mid) as unknown as { states: MemberState[]; orders: OrderRec[] };
    const today = drive(program, events, 0, { states: [], orders: [] });
    const resumed = drive(program, events, f.split, raw);
    // Every state the engine read is version 7 now; one no later event
    // touched stays as stored until read.
    expect(resumed.states.map((s) => upgradeState(s))).toEqual(today.states);
    expect(resumed.states.filter((s) => s.v === 7)).toEqual(today.states.filter((s) => resumed.states.some((r) => r.id === s.id && r.v === 7)));
    expect(resumed.entries).toEqual(drive(program, events, f.split, upgraded(f.mid)).entries);
    // Records the engine never read (no refund) stay as stored until upgraded.
    expect(resumed.orders.map((o) => upgradeOrder(o))).toEqual(today.orders);
  });

  if (version === 4) it('upgradeState and upgradeOrder are pure, and leave current values as they are', () => {
    const f = Object.values(fixture).find((x) => x.mid.states.some((s) => (s.m as number[]).length > 0) && x.mid.orders.length > 0)!;
    const s4 = f.mid.states.find((s) => (s.m as number[]).length > 0)!;
    const before = structuredClone(s4);
    const s5 = upgradeState(s4) as MemberState;
    expect(s4).toEqual(before);
    expect(s5).toMatchObject({ v: 7, metricEntries: s4.m, metricSum: s4.msum, metricFractional: s4.mfrac, limitUses: s4.lim });
    expect(Object.keys(s5).filter((k) => ['m', 'msum', 'mfrac', 'lim'].includes(k))).toEqual([]);
    expect(upgradeState(s5)).toBe(s5);
    const o4 = f.mid.orders[0]!;
    const o5 = upgradeOrder(o4) as OrderRec;
    expect(o5).toMatchObject({ earned: o4.e, eligiblePaid: o4.p, reversed: o4.rev });
    expect(Object.keys(o5).filter((k) => ['e', 'p', 'rev'].includes(k))).toEqual([]);
    expect(upgradeOrder(o5)).toBe(o5);
  });

  if (version === 5) it('upgradeState flattens the vestings, is pure, and leaves a current state as it is', () => {
    const s5 = Object.values(fixture)
      .flatMap((f) => f.mid.states)
      .find((s) => (s.vesting as Vesting[] | undefined)?.some((x) => x.contributions.length > 1))!;
    const before = structuredClone(s5);
    const s6 = upgradeState(s5) as MemberState;
    expect(s5).toEqual(before);
    const old = s5.vesting as Vesting[];
    // Each vesting: at, seq, count, then points and line (0: none) a contribution; the names: order id, then the rules.
    expect(s6.vesting).toEqual(old.flatMap((x) => [x.at, x.seq, x.contributions.length, ...x.contributions.flatMap((c) => [c.points, c.line ?? 0])]));
    expect(s6.vestingNames).toEqual(old.flatMap((x) => [x.order, ...x.contributions.map((c) => c.rule)]));
    expect(vestingsOf(s6)).toEqual(old);
    const instants = old.map((x) => x.at);
    expect([s6.nextVestAt, s6.lastVestAt, s6.vestingInOrder]).toEqual([Math.min(...instants), instants.at(-1), instants.every((t, i) => i === 0 || t >= instants[i - 1]!)]);
    // Besides, only the markers of version 6 (-1: none) are new.
    const markers = { tierDue: s5.tierDue === -1 ? EARLIER : s5.tierDue, due: s5.due === -1 ? NEVER : s5.due };
    expect({ ...s6, vesting: undefined, vestingNames: undefined, nextVestAt: undefined, lastVestAt: undefined, vestingInOrder: undefined, v: 5 }).toEqual({ ...s5, ...markers, vesting: undefined });
    expect(upgradeState(s6)).toBe(s6);
    // A version 5 state from before pending points (no vesting field) has none.
    const bare = structuredClone(s5);
    delete bare.vesting;
    const none = upgradeState(bare) as MemberState;
    expect([none.vesting, none.vestingNames, none.nextVestAt, none.lastVestAt, none.vestingInOrder]).toEqual([[], [], NEVER, EARLIER, true]);
  });

  if (version === 6) it('upgradeState replaces the -1 markers, is pure, and leaves a version 7 state as it is', () => {
    const all = Object.values(fixture).flatMap((f) => f.mid.states);
    expect(all.filter((s) => s.due === -1).length).toBeGreaterThan(5);
    expect(all.filter((s) => s.nextVestAt === -1 && s.lastVestAt === -1).length).toBeGreaterThan(5);
    for (const s6 of all) {
      const before = structuredClone(s6);
      const s7 = upgradeState(s6) as MemberState;
      expect(s6).toEqual(before);
      expect(s7).toEqual({ ...s6, v: 7, due: s6.due === -1 ? NEVER : s6.due, tierDue: s6.tierDue === -1 ? EARLIER : s6.tierDue, nextVestAt: s6.nextVestAt === -1 ? NEVER : s6.nextVestAt, lastVestAt: s6.lastVestAt === -1 ? EARLIER : s6.lastVestAt });
      expect(upgradeState(s7)).toBe(s7);
    }
  });

  if (version === 6) it('a version 6 state that left a vesting before 1970 undone vests on the next tick', () => {
    // Written by main at 15bfc20: "pending 14 days", o1 (2 Jun 1969 10:00Z, base 30) vesting
    // 16 Jun 1969 10:00Z, then brought to 20 Jun 1969, which wrote nothing (its -1 stood for none).
    const p = compile('program "P" {\n currency USD\n base 1 point per 1 USD\n pending 14 days\n}', 'p.loyalty').program!;
    const s6 = { v: 6, id: 'a', signupAt: -18457200000, birthday: null, referrer: null, at: -16848000000, balance: 0, orders: 1, tier: null, graceUntil: null, tierDue: -1, due: -1, layout: '["",[],[]]', metricEntries: [], metricSum: 0, metricFractional: 0, life: [0, 1], limitUses: [], clubs: [], refYear: 0, refCount: 0, nextBirthday: null, lots: [], lotsInOrder: true, deficit: 0, inactiveAt: null, challenges: [], vesting: [-17157600000, 1, 1, 30, 3], vestingNames: ['o1', 'base'], nextVestAt: -17157600000, lastVestAt: -17157600000, vestingInOrder: false };
    const s7 = upgradeState(s6) as MemberState;
    expect([s7.v, s7.due, s7.tierDue, s7.nextVestAt, s7.lastVestAt, s7.vestingInOrder]).toEqual([7, EARLIER, EARLIER, -17157600000, -17157600000, true]);
    expect(nextDue(p, structuredClone(s7))).toBe(Date.parse('1969-06-16T10:00:00Z'));
    const entries = advance(p, s7, Date.parse('1969-06-21T00:00:00Z'));
    expect(entries.map((e) => [e.at, e.kind, e.points, e.rule, e.ref])).toEqual([[Date.parse('1969-06-16T10:00:00Z'), 'earn', 30, 'base', 'o1']]);
    expect([s7.balance, s7.vesting, s7.due]).toEqual([30, [], NEVER]);
    // Handed to the engine as stored, it is upgraded in place and vests the same way.
    const raw = structuredClone(s6) as unknown as MemberState;
    expect(advance(p, raw, Date.parse('1969-06-21T00:00:00Z'))).toEqual(entries);
    expect(raw).toEqual(s7);
  });

  it('a state of a version the engine does not know is refused with UNREADABLE_STATE', () => {
    const c = cases[0]!;
    const { program } = load(c);
    const s = { ...(upgradeState(fixture[c.name]!.mid.states[0]!) as MemberState), v: 3 } as unknown as MemberState;
    const out = applyEvent(program, { type: 'adjust', at: s.at + 1, member: s.id, points: 5 }, { get: () => s, order: () => undefined });
    expect(out.refusal?.code).toBe('UNREADABLE_STATE');
  });
});
