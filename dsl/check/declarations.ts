// dsl.md 3, what the program declares, before any section is checked (a
// rule may name a club or tier declared below it): the base rate, the
// program-wide excludes, the sections given at most once (tiers, referral,
// redeem, expire), club names and tier names, each declared once.
import type * as A from '../ast.ts';
import type { CheckContext } from './context.ts';
import { rate } from './literals.ts';

export function collectDeclarations(ctx: CheckContext, ast: A.ProgramAst): void {
  for (const item of ast.items) {
    if (item.kind === 'base') {
      ctx.hasBase = true;
      rate(ctx, item.rate, 'base');
    } else if (item.kind === 'exclude') {
      for (const v of item.values) ctx.programExcludes[item.target].add(v.text);
    } else if (item.kind === 'tiers') {
      if (onceSection(ctx, 'tiers', item.loc, 'the tiers section')) ctx.tiersNode = item;
    } else if (item.kind === 'club') {
      const prev = ctx.clubNames.get(item.name.text);
      if (prev) ctx.report('E015', item.name.loc, `club ${item.name.raw} is declared twice (first on line ${prev.line})`);
      else ctx.clubNames.set(item.name.text, item.loc);
    } else if (item.kind === 'referral') onceSection(ctx, 'referral', item.loc, 'the referral section');
    else if (item.kind === 'redeem') onceSection(ctx, 'redeem', item.loc, 'the redeem section');
    else if (item.kind === 'expire') onceSection(ctx, 'expire', item.loc, 'the expire section');
  }
  if (ctx.tiersNode)
    for (const s of ctx.tiersNode.body)
      if (s.kind === 'tier') {
        const prev = ctx.tierNames.get(s.name.text);
        if (prev) ctx.report('E015', s.name.loc, `tier ${s.name.text} is declared twice (first on line ${prev.line})`);
        else ctx.tierNames.set(s.name.text, s.loc);
      }
}

function onceSection(ctx: CheckContext, key: string, loc: A.Loc, label: string): boolean {
  const prev = ctx.once.get(key);
  if (prev) ctx.report('E014', loc, `${label} is given twice (first on line ${prev.line})`, 'merge them into one');
  else ctx.once.set(key, loc);
  return !prev;
}
