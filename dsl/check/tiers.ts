// dsl.md 3, tiers (2.4): one qualify and one keep, durations above 0, at
// least one tier, the first at 0, thresholds strictly ascending and of the
// qualifying metric's kind, one multiplier per tier, its discounts.
import type * as A from '../ast.ts';
import { isNegative, parseDecimal, parseInteger } from '../values.ts';
import type { CheckContext } from './context.ts';
import { discounts, duration, money, multiplier } from './literals.ts';

type MetricName = 'spend' | 'points' | 'orders';

export function checkTiers(ctx: CheckContext, t: A.TiersDecl): void {
  // A second tiers section was reported by declarations.ts; only the first is checked.
  if (t !== ctx.tiersNode) return;
  const qualifies = t.body.filter((s) => s.kind === 'qualify');
  for (const q of qualifies.slice(1)) ctx.report('E061', q.loc, `qualify is given twice (first on line ${qualifies[0]!.loc.line})`);
  const keeps = t.body.filter((s) => s.kind === 'keep');
  for (const k of keeps.slice(1)) ctx.report('E061', k.loc, `keep is given twice (first on line ${keeps[0]!.loc.line})`);
  for (const k of keeps) duration(ctx, k.duration, 'keep');
  const q = qualifies[0];
  if (q?.window?.kind === 'rolling') duration(ctx, q.window.duration, 'the qualifying window');
  const metric: MetricName = (q?.metric.text as MetricName | undefined) ?? 'spend';
  const tiers = t.body.filter((s): s is A.TierNode => s.kind === 'tier');
  if (tiers.length === 0) ctx.report('E060', t.loc, 'the tiers section declares no tier', 'add tiers such as `tier Green at 0`');
  let prev: number | null = null;
  tiers.forEach((tier, i) => {
    const v = threshold(ctx, tier, metric);
    if (i === 0 && v !== null && v !== 0) ctx.report('E020', tier.threshold.loc, `the first tier must be at 0, not ${tier.threshold.raw}`, `write \`tier ${tier.name.text} at 0\``);
    if (v !== null) {
      if (prev !== null && v <= prev) ctx.report('E021', tier.threshold.loc, `tier ${tier.name.text} at ${tier.threshold.raw} is not above the tier before it`, 'thresholds must strictly ascend');
      prev = v;
    }
    const mults = tier.body.filter((s) => s.kind === 'multiplier');
    for (const m of mults) {
      multiplier(ctx, m);
      if (!ctx.hasBase) ctx.report('W002', m.loc, `tier ${tier.name.text} multiplies the base, but the program has no base earning`, 'add a setting such as `base 1 point per 1 USD`');
    }
    for (const m of mults.slice(1)) ctx.report('E061', m.loc, `tier ${tier.name.text} has more than one multiplier`);
    discounts(ctx, tier.body, `tier ${tier.name.text}`);
  });
}

function threshold(ctx: CheckContext, tier: A.TierNode, metric: MetricName): number | null {
  const th = tier.threshold;
  if ('currency' in th) {
    if (metric !== 'spend') {
      ctx.report('E022', th.loc, `tiers qualify on ${metric}, so thresholds are numbers, not money`, `write \`tier ${tier.name.text} at ${th.amount}\``);
      return null;
    }
    return money(ctx, th, 'a threshold');
  }
  if (isNegative(th.raw)) {
    ctx.report('E043', th.loc, 'a threshold cannot be negative');
    return null;
  }
  const v = parseDecimal(th.raw);
  if (metric === 'spend') {
    if (v && v.n === 0) return 0;
    ctx.report('E022', th.loc, `tiers qualify on spend, so thresholds are money, not ${th.raw}`, ctx.currency ? `write \`tier ${tier.name.text} at ${th.raw} ${ctx.currency}\`` : undefined);
    return null;
  }
  const n = parseInteger(th.raw);
  if (n === null) ctx.report('E047', th.loc, `a ${metric} threshold must be a whole number, not ${th.raw}`);
  return n;
}
