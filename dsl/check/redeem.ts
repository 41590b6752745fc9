// dsl.md 3, redemption and expiry (2.7): one rate (not for 0 points), min
// and max once each, one `after` of at least 1 unit.
import type * as A from '../ast.ts';
import type { CheckContext } from './context.ts';
import { duration, money, percent, points } from './literals.ts';
import { labelOf } from './referral.ts';

export function checkRedeem(ctx: CheckContext, r: A.RedeemDecl): void {
  const kinds = new Map<string, A.Loc>();
  for (const s of r.body) {
    const prev = kinds.get(s.kind);
    if (prev) ctx.report('E061', s.loc, `${labelOf(s.kind)} is given twice in the redeem section (first on line ${prev.line})`);
    else kinds.set(s.kind, s.loc);
    if (s.kind === 'redeemRate') {
      const n = points(ctx, s.points, 'a redemption rate');
      if (n === 0) ctx.report('E016', s.points.loc, 'a redemption rate cannot be for 0 points', 'for example `rate 100 points = 1 USD`');
      money(ctx, s.value, 'a redemption value');
    } else if (s.kind === 'redeemMin') points(ctx, s.points, 'a minimum redemption');
    else percent(ctx, s.percent, 'a maximum');
  }
  if (!kinds.has('redeemRate')) ctx.report('E060', r.loc, 'the redeem section has no rate', 'add a rate such as `rate 100 points = 1 USD`');
}

export function checkExpire(ctx: CheckContext, e: A.ExpireDecl): void {
  if (e.body.length === 0) ctx.report('E060', e.loc, 'the expire section says nothing', 'write `after 12 months` or `after 12 months inactivity`');
  for (const a of e.body.slice(1)) ctx.report('E061', a.loc, 'the expire section has more than one `after`');
  for (const a of e.body) duration(ctx, a.duration, 'expiry');
}
