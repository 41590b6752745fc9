// Steps 1–7 of an order (dsl.md 4.2), generated as one JavaScript function
// per program: the rules unrolled in source order, their filters as string
// comparisons, limits on fixed slots, constants inlined — what someone
// writing the program by hand would write. `computeOrder` in engine.ts is the
// reference it must agree with (test/engine/codegen.test.ts); it also serves
// quotes, which must not record limit uses.
//
// Only checked values reach the source: numbers from the compiled program and
// strings through JSON.stringify. A rule's filters are read as the
// interpreter reads them: through the plan's line masks (plan.ts lineMask),
// or the rules' compiled filters for a program with over 30 rules.
//
// Depends on plan.ts only: engine.ts builds the plan and calls this once.
import { civilFromDays } from '../../dsl/values.ts';
import { mulDivFloor, mulMulDivFloor } from './arith.ts';
import { activeClubs, contribute, discountsApply, lineDiscount, lineMask, monthKey, tierIndexOf, type OrderFn, type Plan } from './plan.ts';
import { DAY } from './time.ts';

const q = JSON.stringify;

const H = { activeClubs, contribute, discountsApply, lineDiscount, lineMask, monthKey, tierIndexOf };

export function generateOrderFn(plan: Omit<Plan, 'orderFn'>): OrderFn {
  const p = plan.program;
  const rules = p.rules;
  const filtered = rules.map((r) => r.matches !== null);
  const useMasks = plan.masks !== null;
  const eligible = [p.excludeCategories.size ? '!XC.has(cat)' : '', p.excludeSkus.size ? '!XS.has(sku)' : ''].filter(Boolean).join(' && ') || 'true';
  const rate = p.base?.rate;
  const L: string[] = [];
  L.push('const clubs = H.activeClubs(P, s, at);');
  const hasDiscounts = plan.clubDiscounts || plan.tierDiscounts.some(Boolean);
  if (hasDiscounts) {
    L.push(p.tiers.length ? 'const tier = H.tierIndexOf(P, s);' : 'const tier = -1;');
    L.push('const anyDiscount = H.discountsApply(P, clubs, tier);');
  }
  L.push('const nl = lines.length;');
  L.push('const LP = x.linePaid, LE = x.lineElig;');
  L.push('let total = 0, items = 0;');
  rules.forEach((_, i) => {
    if (filtered[i]) L.push(`let p${i} = 0, q${i} = 0, m${i} = false;`);
  });
  L.push('for (let i = 0; i < nl; i++) {');
  L.push('  const l = lines[i]; const cat = l.category, sku = l.sku;');
  L.push('  const amount = l.qty * l.price; let paid = amount;');
  if (hasDiscounts) L.push('  if (anyDiscount) paid = amount - H.lineDiscount(P, clubs, tier, cat, amount);');
  L.push(`  const eligible = ${eligible};`);
  L.push('  LP[i] = paid; LE[i] = eligible ? 1 : 0;');
  L.push('  if (eligible) {');
  L.push('    total += paid; items += l.qty;');
  if (useMasks && filtered.some(Boolean)) L.push('    const mask = H.lineMask(P, cat, sku);');
  rules.forEach((_, i) => {
    const match = useMasks ? `((mask >>> ${i}) & 1) === 1` : `R[${i}].matches(cat, sku)`;
    if (filtered[i]) L.push(`    if (${match}) { p${i} += paid; q${i} += l.qty; m${i} = true; }`);
  });
  L.push('  }');
  L.push('}');
  L.push('const sc = x.out; let n = 0;');
  L.push(rate ? `const base = mulDivFloor(total, ${rate.n}, ${rate.d});` : 'const base = 0;');
  if (p.base) L.push(`if (base > 0) n = H.contribute(sc, n, "base", base, ${p.base.line});`);
  if (rules.length) {
    L.push('if (items > 0) {');
    const usesFacts = rules.some((r) => r.conditionJs !== null);
    if (plan.needsLocal) {
      L.push('  const local = P.zone.toLocal(at); const day = Math.floor(local / DAY);');
    }
    if (usesFacts) {
      L.push('  const f = x.facts;');
      L.push('  f.total = total; f.items = items; f.channel = channel; f.tier = H.tierIndexOf(P, s); f.clubs = clubs; f.firstOrder = s.orders === 0;');
      if (plan.needsLocal) L.push('  f.localDay = day; f.msOfDay = local - day * DAY; f.weekday = (((day + 3) % 7) + 7) % 7;');
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
          const slot = 2 * plan.ruleSlot[i]!;
          const key = lim.period === 'day' ? 'day' : lim.period === 'week' ? 'Math.floor((day + 3) / 7)' : lim.period === 'month' ? 'H.monthKey(day)' : lim.period === 'year' ? 'civilFromDays(day).y' : '0';
          L.push(`    const key = ${key}; const used = s.limitUses[${slot}] === key ? s.limitUses[${slot + 1}] : 0;`);
          if (lim.unit === 'points') L.push(`    c = Math.min(c, ${lim.amount} - used); if (c <= 0) break r${i}; s.limitUses[${slot}] = key; s.limitUses[${slot + 1}] = used + c;`);
          else L.push(`    if (used >= ${lim.amount}) break r${i}; s.limitUses[${slot}] = key; s.limitUses[${slot + 1}] = used + 1;`);
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
      L.push('  const t = p.tiers[H.tierIndexOf(P, s)];');
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
  L.push('const calc = x.calc; calc.total = total; calc.items = items; calc.base = base; calc.count = n;');
  L.push('return calc;');
  const body = `return function order(x, s, at, lines, channel) {\n${L.join('\n')}\n};`;
  const make = new Function('P', 'p', 'H', 'R', 'XC', 'XS', 'mulDivFloor', 'mulMulDivFloor', 'civilFromDays', 'DAY', body);
  return make(plan, p, H, rules, p.excludeCategories, p.excludeSkus, mulDivFloor, mulMulDivFloor, civilFromDays, DAY) as OrderFn;
}
