// diffPrograms: laws over the examples and generated streams, and two
// changes to the coffee chain worked out by hand.
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateToString } from '../../bench/generate.ts';
import { compile, type Program } from '../../dsl/index.ts';
import { diffPrograms, Replay, type DiffResult, type ReplayResult } from '../../src/engine/index.ts';
import { compileFile, exampleCases, replayFile, ROOT } from '../support.ts';

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

  it('has totals that add up: earned − redeemed − expired − reversed = outstanding = Σ balances', () => {
    const d = diffPrograms(program, program, events);
    const t = d.totals.before;
    expect(t.earned - t.redeemed - t.expired - t.reversed).toBe(t.outstanding);
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
