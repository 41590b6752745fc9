// dsl.md 3, the rewards catalog (2.9): one cost above 0, at most one value
// and one count limit (not points, not per order), member-only conditions.
import type * as A from '../ast.ts';
import { parseInteger } from '../values.ts';
import type { CheckContext } from './context.ts';
import { checkCondition, describeOperand, orderOperands } from './expressions.ts';
import { limit, money, points } from './literals.ts';

export function checkReward(ctx: CheckContext, r: A.RewardDecl): void {
  ctx.declareName(ctx.rewardNames, 'reward', r.name, r.loc);
  if (r.name.text.trim() === '') ctx.report('E060', r.name.loc, 'a reward needs a name', 'for example reward "Free latte"');
  const costs = r.body.filter((s): s is A.CostNode => s.kind === 'cost');
  if (costs.length === 0) ctx.report('E060', r.name.loc, `reward ${r.name.raw} has no cost`, 'add what it costs, e.g. `cost 450 points`');
  for (const c of costs.slice(1)) ctx.report('E061', c.loc, `reward ${r.name.raw} has more than one cost (the first is on line ${costs[0]!.loc.line})`, 'a reward has exactly one cost: keep one');
  for (const c of costs) {
    const v = points(ctx, c.points, 'a reward cost');
    if (v === 0) ctx.report('E063', c.points.loc, `reward ${r.name.raw} costs 0 points`, 'a reward must cost more than 0 points, e.g. `cost 100 points`');
  }
  const values = r.body.filter((s): s is A.ValueNode => s.kind === 'value');
  for (const v of values.slice(1)) ctx.report('E061', v.loc, `reward ${r.name.raw} has more than one value (the first is on line ${values[0]!.loc.line})`, 'keep one value');
  for (const v of values) money(ctx, v.amount, 'a reward value');
  const limits = r.body.filter((s): s is A.LimitNode => s.kind === 'limit');
  for (const l of limits.slice(1)) ctx.report('E045', l.loc, `reward ${r.name.raw} has more than one limit`, 'a reward takes at most one limit, e.g. `limit 1 times per month`');
  for (const l of limits) {
    if (l.unit === 'points') ctx.report('E046', l.loc, 'a reward limit counts redemptions, not points', `write a count, e.g. \`limit ${l.amount?.raw ?? 1} times per ${l.period.text === 'order' ? 'month' : l.period.text}\``);
    if (l.period.text === 'order') ctx.report('E046', l.period.loc, 'a reward cannot be limited per order: it is redeemed without an order', 'use per day, week, month, year or member');
    limit(ctx, l);
    if (l.unit === 'times' && l.amount && parseInteger(l.amount.raw) === 0)
      ctx.report('W005', l.loc, `reward ${r.name.raw} can never be redeemed: its limit is 0`, 'remove the reward, or allow at least 1 redemption');
  }
  for (const s of r.body) {
    if (s.kind !== 'when') continue;
    for (const o of orderOperands(s.expr))
      ctx.report('E053', o.loc, `${describeOperand(o)} cannot be used in a reward's when: a reward is redeemed without an order`, 'a reward\'s when may use member.tier and member.club "Name" only');
    checkCondition(ctx, s.expr, 'compare it, e.g. when member.tier >= Silver');
  }
}
