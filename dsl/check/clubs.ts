// dsl.md 3, clubs (2.5): a name, at most one fee, multiplier and join
// bonus, their values, the club's discounts.
import type * as A from '../ast.ts';
import type { CheckContext } from './context.ts';
import { discounts, money, multiplier, points } from './literals.ts';

export function checkClub(ctx: CheckContext, c: A.ClubDecl): void {
  if (c.name.text.trim() === '') ctx.report('E060', c.name.loc, 'a club needs a name');
  const byKind = (k: string) => c.body.filter((s) => s.kind === k);
  for (const k of ['fee', 'multiplier', 'joinBonus']) {
    const xs = byKind(k);
    for (const x of xs.slice(1)) ctx.report('E061', x.loc, `club ${c.name.raw} has more than one ${k === 'joinBonus' ? 'join bonus' : k}`);
  }
  discounts(ctx, c.body, `club ${c.name.raw}`);
  for (const s of c.body) {
    if (s.kind === 'fee') money(ctx, s.amount, 'a fee');
    else if (s.kind === 'multiplier') {
      multiplier(ctx, s);
      if (!ctx.hasBase) ctx.report('W002', s.loc, `club ${c.name.raw} multiplies the base, but the program has no base earning`, 'add a setting such as `base 1 point per 1 USD`');
    } else if (s.kind === 'joinBonus') points(ctx, s.points, 'a join bonus');
  }
}
