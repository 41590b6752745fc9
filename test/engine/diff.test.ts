// diffPrograms: laws over the examples and generated streams, and two
// changes to the coffee chain worked out by hand.
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateToString } from '../../bench/generate.ts';
import { compile, type Program } from '../../dsl/index.ts';
import { carryOver, clubsAt, diffPrograms, Replay, type DiffResult, type ReplayResult } from '../../src/engine/index.ts';
import { compileFile, conformanceNextCases, exampleCases, replayFile, ROOT } from '../support.ts';

const lines = (path: string): string[] => readFileSync(path, 'utf8').split(/\r?\n/);

function compileText(text: string): Program {
  const r = compile(text, 'draft.loyalty');
  if (!r.program) throw new Error(`does not compile: ${JSON.stringify(r.diagnostics)}`);
  return r.program;
}

function replayLines(program: Program, events: string[]): ReplayResult {
  const r = new Replay(program);
  events.forEach((l, i) => r.pushLine(l, i + 1));
  return r.result();
}

/** The members whose replay results (less the ledger) differ, as diffPrograms should list them. */
function changedMembers(a: ReplayResult, b: ReplayResult): Pick<DiffResult['members'][number], 'id' | 'before' | 'after'>[] {
  const summary = (m: ReplayResult['members'][string]) => ({ balance: m.balance, tier: m.tier, clubs: m.clubs });
  return Object.keys(a.members)
    .filter((id) => JSON.stringify(summary(a.members[id]!)) !== JSON.stringify(summary(b.members[id]!)))
    .map((id) => ({ id, before: summary(a.members[id]!), after: summary(b.members[id]!) }))
    .sort((x, y) => Math.abs(y.after.balance - y.before.balance) - Math.abs(x.after.balance - x.before.balance) || (x.id < y.id ? -1 : 1));
}

describe.each(exampleCases())('$name against itself', (c) => {
  const program = compileFile(c.program);
  const events = lines(c.events);

  it('changes nothing', () => {
    const d = diffPrograms(program, program, events);
    expect(d.members).toEqual([]);
    expect(d.totals.after).toEqual(d.totals.before);
    expect(d.totals.changed).toEqual({ members: 0, balance: 0, tier: 0, clubs: 0 });
    expect(d.tierMatrix.every((m) => m.from === m.to)).toBe(true);
    expect(d.errors.after).toEqual(d.errors.before);
  });

  it('changes nothing with the draft carried in half way', () => {
    const d = diffPrograms(program, program, events, { from: Date.parse('2026-04-01T00:00:00Z') });
    expect(d.members).toEqual([]);
    expect(d.totals.after).toEqual(d.totals.before);
  });

  it('has totals that add up: earned − redeemed − expired − reversed + adjusted = outstanding = Σ balances', () => {
    const d = diffPrograms(program, program, events);
    const t = d.totals.before;
    expect(t.earned - t.redeemed - t.expired - t.reversed + t.adjusted).toBe(t.outstanding);
    const result = replayFile(program, c.events);
    expect(t.outstanding).toBe(Object.values(result.members).reduce((a, m) => a + m.balance, 0));
    expect(Object.values(t.earnedByRule).reduce((a, b) => a + b, 0)).toBe(t.earned);
    expect(t.tiers.reduce((a, x) => a + x.members, 0)).toBe(t.members);
  });
});

// --- generated streams and programs ------------------------------------------------

const COFFEE = readFileSync(join(ROOT, 'examples/coffee-chain.loyalty'), 'utf8');

interface Knobs {
  base: number;
  silver: number;
  gold: number;
  pastry: number;
  weekendCap: number;
  clubMultiplier: number;
}

/** The coffee chain with a few of its figures changed. */
function coffeeWith(k: Knobs): string {
  return COFFEE.replace('base 10 points per 1 USD', `base ${k.base} points per 1 USD`)
    .replace('tier Silver at 250 USD', `tier Silver at ${k.silver} USD`)
    .replace('tier Gold at 750 USD', `tier Gold at ${k.gold} USD`)
    .replace('multiplier 2x\n    limit 100 points per day', `multiplier ${k.pastry}x\n    limit 100 points per day`)
    .replace('limit 200 points per week', `limit ${k.weekendCap} points per week`)
    .replace('fee 9.99 USD per month\n    multiplier 2x', `fee 9.99 USD per month\n    multiplier ${k.clubMultiplier}x`);
}

const knobsArb: fc.Arbitrary<Knobs> = fc
  .record({
    base: fc.integer({ min: 1, max: 20 }),
    silver: fc.integer({ min: 20, max: 400 }),
    goldAbove: fc.integer({ min: 1, max: 600 }),
    pastry: fc.integer({ min: 1, max: 4 }),
    weekendCap: fc.integer({ min: 50, max: 400 }),
    clubMultiplier: fc.integer({ min: 1, max: 3 }),
  })
  .map(({ goldAbove, ...k }) => ({ ...k, gold: k.silver + goldAbove }));

describe('diffPrograms on generated streams and programs', () => {
  it('lists exactly the members whose replay results differ, with those results', { timeout: 120_000 }, () => {
    let changed = 0;
    fc.assert(
      fc.property(knobsArb, knobsArb, fc.integer({ min: 1, max: 1e6 }), (ka, kb, seed) => {
        const a = compileText(coffeeWith(ka));
        const b = compileText(coffeeWith(kb));
        const events = generateToString({ events: 1200, members: 30, seed, months: 14, edge: seed % 2 === 0 }).split('\n');
        const ra = replayLines(a, events);
        const rb = replayLines(b, events);
        const d = diffPrograms(a, b, events);
        expect(d.members.map(({ id, before, after }) => ({ id, before, after }))).toEqual(changedMembers(ra, rb));
        expect(d.totals.changed.members).toBe(d.members.length);
        expect(d.totals.before.outstanding).toBe(Object.values(ra.members).reduce((s, m) => s + m.balance, 0));
        expect(d.totals.after.outstanding).toBe(Object.values(rb.members).reduce((s, m) => s + m.balance, 0));
        expect(d.tierMatrix.reduce((s, m) => s + m.members, 0)).toBe(Object.keys(ra.members).length);
        expect(d.errors.before).toEqual(ra.errors);
        expect(d.errors.after).toEqual(rb.errors);
        changed += d.members.length;
      }),
      { numRuns: 25 },
    );
    // The law is not vacuous: the generated changes do move members.
    expect(changed).toBeGreaterThan(100);
  });

  it('with `from` after the last event carries every member into the draft, as a publish does', { timeout: 60_000 }, () => {
    let moved = 0;
    fc.assert(
      fc.property(knobsArb, knobsArb, fc.integer({ min: 1, max: 1e6 }), (ka, kb, seed) => {
        const a = compileText(coffeeWith(ka));
        const b = compileText(coffeeWith(kb));
        const events = generateToString({ events: 300, members: 20, seed, months: 6 }).split('\n');
        const r = new Replay(a);
        events.forEach((l, i) => r.pushLine(l, i + 1));
        const published = new Map<string, { balance: number; tier: string | null; clubs: string[] }>();
        for (const [id, s] of r.members) {
          carryOver(b, s);
          published.set(id, { balance: s.balance, tier: s.tier, clubs: clubsAt(b, s, r.clock) });
        }
        const d = diffPrograms(a, b, events, { from: Date.parse('2030-01-01T00:00:00Z') });
        for (const m of d.members) expect(m.after).toEqual(published.get(m.id));
        expect(d.totals.after.tiers.map((t) => t.members)).toEqual(b.tiers.map((t) => [...published.values()].filter((m) => m.tier === t.name).length));
        // Nothing is earned under the draft: only tiers can move.
        expect(d.totals.after.earned).toBe(d.totals.before.earned);
        moved += d.totals.changed.tier;
      }),
      { numRuns: 10 },
    );
    expect(moved).toBeGreaterThan(0);
  });

  it('with `from` before the first event is the diff from the start', { timeout: 60_000 }, () => {
    fc.assert(
      fc.property(knobsArb, knobsArb, fc.integer({ min: 1, max: 1e6 }), (ka, kb, seed) => {
        const a = compileText(coffeeWith(ka));
        const b = compileText(coffeeWith(kb));
        const events = generateToString({ events: 300, members: 20, seed, months: 6 }).split('\n');
        const whole = diffPrograms(a, b, events);
        const early = diffPrograms(a, b, events, { from: Date.parse('2020-01-01T00:00:00Z') });
        expect({ ...early, from: null }).toEqual(whole);
      }),
      { numRuns: 10 },
    );
  });
});

// --- the coffee chain, worked out by hand -------------------------------------------
//
// examples/coffee-chain: base 10 Beans per USD (gift cards and tax excluded);
// Bean Club members pay 15% less for whole beans; Silver's 1.25x and the
// club's 2x multiply the base points only. Weeks start on Monday, in New York.

describe('coffee chain', () => {
  const program = compileFile(join(ROOT, 'examples/coffee-chain.loyalty'));
  const events = lines(join(ROOT, 'examples/coffee-chain.events.jsonl'));

  it('raising Silver from 250 to 300 USD costs ava one order of Silver bonus, which would have expired anyway', () => {
    const draft = compileText(COFFEE.replace('tier Silver at 250 USD', 'tier Silver at 300 USD'));
    const d = diffPrograms(program, draft, events);
    // ava's spend over 12 months, in eligible USD:
    //   A-1001  4.75 + 3.95                         =   8.70
    //   A-1002  2 × 16.00 × 0.85 + 4.75             =  31.95   (40.65)
    //   A-1003  189.00 + 3 × 18.50 × 0.85 + 4.75    = 240.925  (281.575: Silver at 250, not at 300)
    //   A-1004  2 × 17.00 × 0.85                    =  28.90   (310.475: Silver at 300 too)
    // The tier bonus goes by the tier at the start of an order, so A-1004
    // earns tier:Silver 0.25 × 289 = 72 at 250 and nothing at 300; A-1005,
    // A-1006 and A-1007 earn it in both (70 + 21 + 92 = 183; the refund of
    // A-1003 on 04-10 leaves ava within 30 days of grace until A-1007).
    expect(d.totals.before.earnedByRule['tier:Silver']).toBe(72 + 183);
    expect(d.totals.after.earnedByRule['tier:Silver']).toBe(183);
    expect(d.totals.after.earned - d.totals.before.earned).toBe(-72);
    // A-1004's lot (289 base + 50 weekend beans + 72 Silver + 289 club = 700)
    // expires whole on 2027-03-22; without the 72 it is 628.
    expect(d.totals.before.expired - d.totals.after.expired).toBe(72);
    // So every member ends as before: the change shows in the totals only.
    expect(d.members).toEqual([]);
    expect(d.totals.after.outstanding).toBe(d.totals.before.outstanding);
    expect(d.totals.changed).toEqual({ members: 0, balance: 0, tier: 0, clubs: 0 });
    expect(d.tierMatrix).toEqual([{ from: 'Green', to: 'Green', members: 4 }]);
  });

  const WEEKEND = COFFEE.replace(
    '  rule "App order" {',
    `  rule "Weekend treat" {
    days sat, sun
    extra 10 points per 1 USD
    limit 300 points per week
  }

  rule "App order" {`,
  );

  it('adding "Weekend treat" (10 more Beans per USD on weekends, at most 300 a week)', () => {
    const d = diffPrograms(program, compileText(WEEKEND), events);
    // Weekend orders (New York time) and their treat:
    //   A-1002  Sun 2026-03-01  31.95 USD → 319, capped at 300
    //   A-1003  Sat 2026-03-21  240.925   → 2409, capped at 300
    //   A-1004  Sun 2026-03-22  same week as A-1003: the 300 are used up → 0
    //   A-1007  Sat 2026-04-18  37.00     → 370, capped at 300
    //   B-2005  Sun 2026-03-15 (00:45Z on the 16th)  11.25 → 112
    //   B-2007  Sat 2027-03-27  2 lines, 16.00 × 0.85 + 4.75 = 18.35 → 183
    expect(d.totals.after.earnedByRule['Weekend treat']).toBe(300 + 300 + 300 + 112 + 183);
    expect(d.totals.after.earned - d.totals.before.earned).toBe(1195);
    // The refund of the 189 USD grinder from A-1003 reverses its entries in
    // proportion: the treat's share is 300 × 189 / 240.925 = 235.3 → 235.
    expect(d.totals.after.reversed - d.totals.before.reversed).toBe(235);
    // By 2027-04-01 every Bean ava earned up to 2026-03-22 is spent or
    // expired, so the rest of A-1002's and A-1003's treat expires:
    // 300 + 300 − 235 = 365; ben's 112 expire with B-2005's lot on 2027-03-16.
    expect(d.totals.after.expired - d.totals.before.expired).toBe(365 + 112);
    // What remains: ava's A-1007 treat (its lot expires 2027-04-18, after the
    // stream) and ben's B-2007 treat. 483 Beans at 100 = 1 USD: 4.83 USD.
    expect(d.members).toEqual([
      { id: 'ava', before: { balance: 1984, tier: 'Green', clubs: [] }, after: { balance: 1984 + 300, tier: 'Green', clubs: [] }, byRule: expect.objectContaining({}) },
      { id: 'ben', before: { balance: 656, tier: 'Green', clubs: ['Bean Club'] }, after: { balance: 656 + 183, tier: 'Green', clubs: ['Bean Club'] }, byRule: expect.objectContaining({}) },
    ]);
    expect(d.members[0]!.byRule.after['Weekend treat']).toBe(900);
    expect(d.members[0]!.byRule.before['Weekend treat']).toBeUndefined();
    expect(d.members[1]!.byRule.after['Weekend treat']).toBe(112 + 183);
    expect(d.totals.after.outstanding - d.totals.before.outstanding).toBe(483);
    expect([d.totals.before.outstandingValue, d.totals.after.outstandingValue]).toEqual(['35.01 USD', '39.84 USD']);
    expect(d.totals.changed).toEqual({ members: 2, balance: 2, tier: 0, clubs: 0 });
  });

  it('adding "Weekend treat" from 2026-04-01: only A-1007 and B-2007 earn it', () => {
    const d = diffPrograms(program, compileText(WEEKEND), events, { from: Date.parse('2026-04-01T04:00:00Z') });
    // Before April both sides replay the old program: no treat on A-1002,
    // A-1003 or B-2005, so nothing extra to reverse or expire.
    expect(d.from).toBe('2026-04-01T04:00:00Z');
    expect(d.totals.after.earnedByRule['Weekend treat']).toBe(300 + 183);
    expect(d.totals.after.reversed).toBe(d.totals.before.reversed);
    expect(d.totals.after.expired).toBe(d.totals.before.expired);
    expect(d.members.map((m) => [m.id, m.after.balance - m.before.balance])).toEqual([
      ['ava', 300],
      ['ben', 183],
    ]);
  });
});

describe('corrections in the history', () => {
  const c = conformanceNextCases().find((x) => x.name === '24-adjustments');
  it.runIf(c)('totals count adjust entries apart: +50 − 100 − 60 = −110 adjusted, 80 + 40 earned, 30 expired, −20 outstanding', () => {
    const program = compileFile(c!.program);
    const t = diffPrograms(program, program, lines(c!.events)).totals.before;
    expect(t).toMatchObject({ earned: 120, redeemed: 0, expired: 30, reversed: 0, adjusted: -110, outstanding: -20 });
  });
});
