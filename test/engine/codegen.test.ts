// The generated order evaluation (codegen.ts) must agree with the reference
// one (computeOrder): every example and conformance case replays to the same
// result with either, and random orders against random member states give
// the same contributions and the same limit uses.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluation, newMember, type MemberState, type OrderLine } from '../../src/engine/index.ts';
import { computeOrder, contributions, orderLines } from '../../src/engine/engine.ts';
import { compileFile, conformanceCases, conformanceNextCases, exampleCases, replayFile } from '../support.ts';

const cases = [...exampleCases(), ...conformanceCases(), ...conformanceNextCases()];

describe('generated order evaluation', () => {
  it.each(cases)('$name replays the same with the reference evaluation', (c) => {
    const program = compileFile(c.program);
    const generated = replayFile(program, c.events, { orders: 'generated' });
    expect(replayFile(program, c.events, { orders: 'reference' })).toEqual(generated);
  });

  it.each(cases)('$name: random orders give the same contributions and limit uses', (c) => {
    const program = compileFile(c.program);
    // Two evaluations of the program: each its own scratch.
    const rt = evaluation(program, { orders: 'reference' });
    const gen = evaluation(program, { orders: 'generated' });
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
      used: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: rt.plan.limitNames.length, maxLength: rt.plan.limitNames.length }),
    });
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
          o.used.forEach((u, i) => (s.limitUses[2 * i + 1] = u));
          return s;
        };
        const lines = o.lines as OrderLine[];
        const a = state();
        const ref = computeOrder(rt, a, o.at, lines, o.channel, true);
        const refOut = contributions(rt, ref);
        const b = state();
        const g = gen.plan.orderFn(gen, b, o.at, lines, o.channel);
        expect(contributions(gen, g)).toEqual(refOut);
        expect({ ...g, count: 0, lines: orderLines(gen, g, lines) }).toEqual({ ...ref, count: 0 });
        expect(b.limitUses).toEqual(a.limitUses);
      }),
      { numRuns: 300 },
    );
  });
});
