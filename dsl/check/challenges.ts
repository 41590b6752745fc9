// dsl.md 3, challenges (2.10): exactly one goal above 0 whose period is not
// `order`, exactly one flat bonus above 0, any number of filters.
import type * as A from '../ast.ts';
import type { CheckContext } from './context.ts';
import { count, money, points } from './literals.ts';

export function checkChallenge(ctx: CheckContext, c: A.ChallengeDecl): void {
  ctx.declareName(ctx.challengeNames, 'challenge', c.name, c.loc);
  if (c.name.text.trim() === '') ctx.report('E060', c.name.loc, 'a challenge needs a name', 'for example challenge "Three visits a week"');
  const goals = c.body.filter((s): s is A.GoalNode => s.kind === 'goal');
  if (goals.length === 0) ctx.report('E060', c.name.loc, `challenge ${c.name.raw} has no goal`, 'add a goal, e.g. `orders 3 per week` or `spend 50 ' + ctx.exampleCurrency + ' per month`');
  for (const g of goals.slice(1)) ctx.report('E061', g.loc, `challenge ${c.name.raw} has more than one goal (the first is on line ${goals[0]!.loc.line})`, 'a challenge has exactly one goal: keep one, or make a second challenge');
  for (const g of goals) {
    const v = 'currency' in g.amount ? money(ctx, g.amount, 'a spend goal') : count(ctx, g.amount, 'an orders goal');
    if (v === 0) ctx.report('E064', g.amount.loc, `challenge ${c.name.raw} has a goal of ${g.amount.raw}`, g.metric === 'orders' ? 'the goal must be at least 1 order, e.g. `orders 3 per week`' : 'the goal must be more than 0, e.g. `spend 50 ' + ctx.exampleCurrency + ' per month`');
    if (g.period.text === 'order')
      ctx.report('E065', g.period.loc, 'a challenge goal cannot be per order: it counts orders over a period', 'use per day, week, month, year or member');
  }
  const bonuses = c.body.filter((s): s is A.BonusNode => s.kind === 'bonus');
  if (bonuses.length === 0) ctx.report('E060', c.name.loc, `challenge ${c.name.raw} has no bonus`, 'add what reaching the goal earns, e.g. `bonus 100 points`');
  for (const b of bonuses.slice(1)) ctx.report('E061', b.loc, `challenge ${c.name.raw} has more than one bonus (the first is on line ${bonuses[0]!.loc.line})`, 'a challenge has exactly one bonus: keep one');
  for (const b of bonuses) {
    const v = points(ctx, b.points, 'a challenge bonus');
    if (v === 0) ctx.report('E064', b.points.loc, `challenge ${c.name.raw} has a bonus of 0 points`, 'the bonus must be more than 0 points, e.g. `bonus 100 points`');
    if (b.perItem) ctx.report('E066', b.loc, 'a challenge bonus is flat: `per item` is not allowed here', `write \`bonus ${b.points.raw} points\``);
  }
}
