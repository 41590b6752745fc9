// Stage 4: the checker. Reports every error of dsl.md section 3 it can find
// (not only the first), plus warnings: the settings, then what the program
// declares, then each section by its registered check, in source order.
// Each check is a small function over the shared CheckContext.
import type * as A from '../ast.ts';
import type { Diagnostic } from '../diagnostics.ts';
import { checkChallenge } from './challenges.ts';
import { checkClub } from './clubs.ts';
import { CheckContext, type CheckOptions } from './context.ts';
import { collectDeclarations } from './declarations.ts';
import { checkExpire, checkRedeem } from './redeem.ts';
import { checkReferral } from './referral.ts';
import { checkReward } from './rewards.ts';
import { checkOn, checkRule } from './rules.ts';
import { checkSettings } from './settings.ts';
import { checkTiers } from './tiers.ts';

export type { CheckOptions } from './context.ts';

type SectionChecks = { [K in A.Item['kind']]?: (ctx: CheckContext, item: Extract<A.Item, { kind: K }>) => void };

/** The check of each section kind (settings are checked by checkSettings). */
const SECTION_CHECKS: SectionChecks = {
  rule: checkRule,
  on: checkOn,
  tiers: checkTiers,
  club: checkClub,
  referral: checkReferral,
  redeem: checkRedeem,
  expire: checkExpire,
  reward: checkReward,
  challenge: checkChallenge,
};

export function check(ast: A.ProgramAst, file: string, opts: CheckOptions = {}): Diagnostic[] {
  const ctx = new CheckContext(file, opts);
  checkSettings(ctx, ast);
  collectDeclarations(ctx, ast);
  for (const item of ast.items) (SECTION_CHECKS[item.kind] as ((ctx: CheckContext, item: A.Item) => void) | undefined)?.(ctx, item);
  return ctx.diagnostics;
}
