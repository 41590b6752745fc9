// The generated order evaluation (codegen.ts) must agree with the reference
// one (computeOrder): every example and conformance case replays to the same
// result with either, and random orders against random member states give
// the same contributions and the same limit uses.
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { newMember, runtime, type MemberState, type OrderLine } from '../../src/engine/index.ts';
import { computeOrder, contributions, discountsApply, lineDiscount, orderLines, useGeneratedOrders } from '../../src/engine/engine.ts';
import { generateOrderFn } from '../../src/engine/codegen.ts';
import { compileFile, conformanceCases, conformanceNextCases, exampleCases, replayFile } from '../support.ts';

const cases = [...exampleCases(), ...conformanceCases(), ...conformanceNextCases()];

afterEach(() => useGeneratedOrders(true));

describe('generated order evaluation', () => {
  it.each(cases)('$name replays the same with the reference evaluation', (c) => {
    const program = compileFile(c.program);
    useGeneratedOrders(true);
    const generated = replayFile(program, c.events);
    useGeneratedOrders(false);
    expect(replayFile(program, c.events)).toEqual(generated);
  });

  it.each(cases)('$name: random orders give the same contributions and limit uses', (c) => {
    const program = compileFile(c.program);
    const rt = runtime(program);
    const cats = [...new Set([...program.excludeCategories, ...program.rules.flatMap((r) => [...(r.filter?.categories ?? []), ...(r.filter?.excludeCategories ?? [])]), ...[...program.clubs, ...program.tiers].flatMap((k) => k.discounts.flatMap((d) => [...(d.categories ?? [])])), 'other'])];
    const skus = [...new Set([...program.excludeSkus, ...program.rules.flatMap((r) => [...(r.filter?.skus ?? []), ...(r.filter?.excludeSkus ?? [])]), 'SKU-X'])];
    const line = fc.record({ sku: fc.constantFrom(...skus), category: fc.constantFrom(...cats), qty: fc.integer({ min: 1, max: 5 }), price: fc.integer({ min: 0, max: 20_000 }) });
    const order = fc.record({
      at: fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2027, 11, 31) }),
      lines: fc.array(line, { minLength: 1, maxLength: 5 }),
      channel: fc.constantFrom(null, 'app', 'web', 'store', 'kiosk'),
      tier: fc.integer({ min: 0, max: Math.max(0, program.tiers.length - 1) }),
      clubs: fc.array(fc.boolean(), { minLength: program.clubs.length, maxLength: program.clubs.length }),
      first: fc.boolean(),
      used: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: rt.limitNames.length, maxLength: rt.limitNames.length }),
    });
    const gen = generateOrderFn(rt, { activeClubs: (_rt, s, t) => program.clubs.map((k) => s.clubs[2 * k.index] !== null && s.clubs[2 * k.index]! <= t), tierIndexOf: (_rt, s) => program.tiers.findIndex((t) => t.name === s.tier), contribute: (sc, n, rule, points, line) => ((sc.rule[n] = rule), (sc.points[n] = points), (sc.line[n] = line), n + 1), monthKey: (day) => { const d = new Date(day * 86_400_000); return d.getUTCFullYear() * 12 + d.getUTCMonth(); }, discountsApply, lineDiscount });
    fc.assert(
      fc.property(order, (o) => {
        const state = (): MemberState => {
          const s = newMember(rt, 'm', o.at - 1, null, null);
          s.tier = program.tiers[o.tier]?.name ?? null;
          s.orders = o.first ? 0 : 1;
          o.clubs.forEach((on, i) => {
            if (on) s.clubs[2 * i] = o.at - 1;
          });
          // Some limit use (it bites where the period key matches).
          o.used.forEach((u, i) => (s.lim[2 * i + 1] = u));
          return s;
        };
        const lines = o.lines as OrderLine[];
        const a = state();
        const ref = computeOrder(rt, a, o.at, lines, o.channel, true);
        const refOut = contributions(rt, ref);
        const b = state();
        const g = gen(b, o.at, lines, o.channel);
        expect(contributions(rt, g)).toEqual(refOut);
        expect({ ...g, count: 0, lines: orderLines(rt, g, lines) }).toEqual({ ...ref, count: 0 });
        expect(b.lim).toEqual(a.lim);
      }),
      { numRuns: 300 },
    );
  });
});
