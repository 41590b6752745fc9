// dsl.md 3, referral (2.6): each statement once, valid amounts, someone rewarded.
import type * as A from '../ast.ts';
import type { CheckContext } from './context.ts';
import { count, duration, money, points } from './literals.ts';

export function checkReferral(ctx: CheckContext, r: A.ReferralDecl): void {
  const kinds = new Map<string, A.Loc>();
  for (const s of r.body) {
    const prev = kinds.get(s.kind);
    if (prev) ctx.report('E061', s.loc, `${labelOf(s.kind)} is given twice in the referral section (first on line ${prev.line})`);
    else kinds.set(s.kind, s.loc);
    if (s.kind === 'referrer' || s.kind === 'referee') points(ctx, s.points, `the ${s.kind} reward`);
    else if (s.kind === 'minOrder') money(ctx, s.amount, 'a minimum order');
    else if (s.kind === 'within') duration(ctx, s.duration, 'within');
    else if (s.kind === 'referralLimit') count(ctx, s.count, 'a referral limit');
  }
  if (!kinds.has('referrer') && !kinds.has('referee')) ctx.report('E060', r.loc, 'the referral section rewards nobody', 'add `referrer N points` and/or `referee N points`');
}

/** A statement of the referral or redeem section as the program writes it. */
export function labelOf(kind: string): string {
  return (
    {
      referrer: 'referrer',
      referee: 'referee',
      minOrder: 'min order',
      within: 'within',
      referralLimit: 'limit',
      redeemRate: 'rate',
      redeemMin: 'min',
      redeemMax: 'max',
    }[kind] ?? kind
  );
}
