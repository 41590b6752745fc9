// Steps 1–7 of an order (dsl.md 4.2), generated as one JavaScript function
// per program: the rules unrolled in source order, their filters as string
// comparisons, limits on fixed slots, constants inlined — what someone
// writing the program by hand would write. `computeOrder` in engine.ts is the
// reference it must agree with (test/engine/codegen.test.ts); it also serves
// quotes, which must not record limit uses.
//
// Only checked values reach the source: numbers from the compiled program and
// strings through JSON.stringify.
import type { Rule } from '../../dsl/program.ts';
import { civilFromDays } from '../../dsl/values.ts';
import { mulDivFloor, mulMulDivFloor } from './arith.ts';
import type { OrderCalc, Runtime } from './engine.ts';
import { DAY } from './time.ts';
import type { MemberState, OrderLine } from './types.ts';

export type OrderFn = (s: MemberState, at: number, lines: readonly OrderLine[], channel: string | null) => OrderCalc;

interface Helpers {
  activeClubs(rt: Runtime, s: MemberState, t: number): boolean[];
  tierIndexOf(rt: Runtime, s: MemberState): number;
  contribute(sc: Runtime['out'], n: number, rule: string, points: number, line: number | null): number;
  monthKey(day: number): number;
  discountsApply(rt: Runtime, clubs: readonly boolean[], tier: number): boolean;
  lineDiscount(rt: Runtime, clubs: readonly boolean[], tier: number, category: string, amount: number): number;
}

const q = JSON.stringify;

/** `v === "a" || v === "b"` for a few values, a Set lookup for more. */
function member(v: string, values: readonly string[], sets: Set<string>[]): string {
  if (values.length <= 6) return '(' + values.map((x) => `${v} === ${q(x)}`).join(' || ') + ')';
  sets.push(new Set(values));
  return `S[${sets.length - 1}].has(${v})`;
}

function filterCode(r: Rule, sets: Set<string>[]): string {
  const f = r.filter!;
  const parts: string[] = [];
  if (f.categories) parts.push(member('cat', f.categories, sets));
  if (f.skus) parts.push(member('sku', f.skus, sets));
  if (f.excludeCategories) parts.push('!' + member('cat', f.excludeCategories, sets));
  if (f.excludeSkus) parts.push('!' + member('sku', f.excludeSkus, sets));
  return parts.join(' && ') || 'true';
}

export function generateOrderFn(rt: Runtime, h: Helpers): OrderFn {
  const p = rt.program;
  const sets: Set<string>[] = [];
  const rules = p.rules;
  const filtered = rules.map((r) => r.filter !== null);
  const exCat = [...p.excludeCategories];
  const exSku = [...p.excludeSkus];
  const eligible = [exCat.length ? '!' + member('cat', exCat, sets) : '', exSku.length ? '!' + member('sku', exSku, sets) : ''].filter(Boolean).join(' && ') || 'true';
  const rate = p.base?.rate;
  const L: string[] = [];
  L.push('const clubs = H.activeClubs(rt, s, at);');
  const hasDiscounts = rt.clubDiscounts || rt.tierDiscounts.some(Boolean);
  if (hasDiscounts) {
    L.push(p.tiers.length ? 'const tier = H.tierIndexOf(rt, s);' : 'const tier = -1;');
    L.push('const anyDiscount = H.discountsApply(rt, clubs, tier);');
  }
  L.push('const nl = lines.length;');
  L.push('const LP = rt.linePaid, LE = rt.lineElig;');
  L.push('let total = 0, items = 0;');
  rules.forEach((_, i) => {
    if (filtered[i]) L.push(`let p${i} = 0, q${i} = 0, m${i} = false;`);
  });
  L.push('for (let i = 0; i < nl; i++) {');
  L.push('  const l = lines[i]; const cat = l.category, sku = l.sku;');
  L.push('  const amount = l.qty * l.price; let paid = amount;');
  if (hasDiscounts) L.push('  if (anyDiscount) paid = amount - H.lineDiscount(rt, clubs, tier, cat, amount);');
  L.push(`  const eligible = ${eligible};`);
  L.push('  LP[i] = paid; LE[i] = eligible ? 1 : 0;');
  L.push('  if (eligible) {');
  L.push('    total += paid; items += l.qty;');
  rules.forEach((r, i) => {
    if (filtered[i]) L.push(`    if (${filterCode(r, sets)}) { p${i} += paid; q${i} += l.qty; m${i} = true; }`);
  });
  L.push('  }');
  L.push('}');
  L.push('const sc = rt.out; let n = 0;');
  L.push(rate ? `const base = mulDivFloor(total, ${rate.n}, ${rate.d});` : 'const base = 0;');
  if (p.base) L.push(`if (base > 0) n = H.contribute(sc, n, "base", base, ${p.base.line});`);
  if (rules.length) {
    L.push('if (items > 0) {');
    const usesFacts = rules.some((r) => r.conditionJs !== null);
    if (rt.needsLocal) {
      L.push('  const local = rt.zone.toLocal(at); const day = Math.floor(local / DAY);');
    }
    if (usesFacts) {
      L.push('  const f = rt.facts;');
      L.push('  f.total = total; f.items = items; f.channel = channel; f.tier = H.tierIndexOf(rt, s); f.clubs = clubs; f.firstOrder = s.orders === 0;');
      if (rt.needsLocal) L.push('  f.localDay = day; f.msOfDay = local - day * DAY; f.weekday = (((day + 3) % 7) + 7) % 7;');
    }
    rules.forEach((r, i) => {
      const paid = filtered[i] ? `p${i}` : 'total';
      const qty = filtered[i] ? `q${i}` : 'items';
      const guard = [filtered[i] ? `m${i}` : '', r.conditionJs ? `(${r.conditionJs})` : ''].filter(Boolean).join(' && ') || 'true';
      L.push(`  r${i}: if (${guard}) {`);
      const e = r.effect;
      let c: string;
      if (e.kind === 'multiplier') c = rate ? `mulMulDivFloor(${e.factor.n - e.factor.d}, ${rate.n}, ${paid}, ${e.factor.d * rate.d})` : '0';
      else if (e.kind === 'extra') c = `mulDivFloor(${paid}, ${e.rate.n}, ${e.rate.d})`;
      else c = e.perItem ? `${e.points} * ${qty}` : `${e.points}`;
      L.push(`    let c = ${c};`);
      L.push(`    if (c <= 0) break r${i};`);
      const lim = r.limit;
      if (lim) {
        if (lim.period === 'order') {
          if (lim.unit === 'points') L.push(`    c = Math.min(c, ${lim.amount}); if (c <= 0) break r${i};`);
          else if (lim.amount < 1) L.push(`    break r${i};`);
        } else {
          const slot = 2 * rt.ruleSlot[i]!;
          const key = lim.period === 'day' ? 'day' : lim.period === 'week' ? 'Math.floor((day + 3) / 7)' : lim.period === 'month' ? 'H.monthKey(day)' : lim.period === 'year' ? 'civilFromDays(day).y' : '0';
          L.push(`    const key = ${key}; const used = s.lim[${slot}] === key ? s.lim[${slot + 1}] : 0;`);
          if (lim.unit === 'points') L.push(`    c = Math.min(c, ${lim.amount} - used); if (c <= 0) break r${i}; s.lim[${slot}] = key; s.lim[${slot + 1}] = used + c;`);
          else L.push(`    if (used >= ${lim.amount}) break r${i}; s.lim[${slot}] = key; s.lim[${slot + 1}] = used + 1;`);
        }
      }
      L.push(`    n = H.contribute(sc, n, ${q(r.name)}, c, ${r.effectLine});`);
      L.push('  }');
    });
    L.push('}');
  }
  // Steps 6 and 7: the tier held at the start of the order, then clubs in
  // declaration order, on the integer base.
  if (p.tiers.some((t) => t.multiplier) || p.clubs.some((c) => c.multiplier)) {
    L.push('if (base > 0) {');
    if (p.tiers.some((t) => t.multiplier)) {
      L.push('  const t = p.tiers[H.tierIndexOf(rt, s)];');
      L.push('  if (t !== undefined && t.multiplier !== null) { const c = mulDivFloor(t.multiplier.n - t.multiplier.d, base, t.multiplier.d); if (c > 0) n = H.contribute(sc, n, t.tierRule, c, t.multiplierLine); }');
    }
    p.clubs.forEach((club, i) => {
      if (!club.multiplier) return;
      const m = club.multiplier;
      L.push(`  if (clubs[${i}] === true) { const c = mulDivFloor(${m.n - m.d}, base, ${m.d}); if (c > 0) n = H.contribute(sc, n, ${q(club.rule)}, c, ${club.multiplierLine}); }`);
    });
    L.push('}');
  }
  // One result object per program, overwritten by each order (used at once).
  L.push('const calc = rt.calc; calc.total = total; calc.items = items; calc.base = base; calc.count = n;');
  L.push('return calc;');
  const body = `return function order(s, at, lines, channel) {\n${L.join('\n')}\n};`;
  const make = new Function('rt', 'p', 'H', 'S', 'mulDivFloor', 'mulMulDivFloor', 'civilFromDays', 'DAY', body);
  return make(rt, p, h, sets, mulDivFloor, mulMulDivFloor, civilFromDays, DAY) as OrderFn;
}
