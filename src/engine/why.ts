// "Why not" for a quote: for every rule and challenge an order would not
// earn from, the first reason, in the order the engine decides (dsl.md 4.2
// step 5, 4.11): no eligible line, a condition that does not hold, no
// matching line, an effect of 0 points, a limit used up; for a challenge, no
// counting line, the goal already reached in the period, or not reached yet.
import type { LineFilter, OrderFacts, Period } from '../../dsl/program.ts';
import { fromMinorUnits } from '../../dsl/values.ts';
import { effectPoints, periodEnd, periodKey, type OrderCalc, type Evaluation } from './engine.ts';
import type { MemberState, OrderLine } from './types.ts';

export type NotAppliedReason = 'NO_ELIGIBLE_LINE' | 'CONDITION' | 'NO_MATCHING_LINE' | 'NOTHING_EARNED' | 'LIMIT_USED' | 'GOAL_NOT_REACHED' | 'ALREADY_COMPLETED';

export interface NotApplied {
  /** The rule's name, or `challenge:NAME`, as in ledger entries. */
  rule: string;
  reason: NotAppliedReason;
  /** What a merchant or a member would read, e.g. "`days sat, sun` does not hold for this order". */
  message: string;
  /** The program line of the cause: the condition, the limit, the goal, or the rule. */
  line: number;
  /** For a limit or a challenge: when its period starts again (null for `per member` and `per order`). */
  resetsAt: number | null;
}

const PERIOD_WORD: Record<Period, string> = { order: 'this order', day: 'today', week: 'this week', month: 'this month', year: 'this year', member: 'ever' };

function describeFilter(f: LineFilter): string {
  const list = (xs: readonly string[]) => xs.map((x) => JSON.stringify(x)).join(', ');
  const parts: string[] = [];
  if (f.categories) parts.push(`category ${list(f.categories)}`);
  if (f.skus) parts.push(`sku ${list(f.skus)}`);
  if (f.excludeCategories) parts.push(`exclude category ${list(f.excludeCategories)}`);
  if (f.excludeSkus) parts.push(`exclude sku ${list(f.excludeSkus)}`);
  return parts.join(', ');
}

/**
 * The rules and challenges that give nothing to an order quoted with
 * computeOrder and challengeContributions (without commit), given the rule
 * names that did contribute. `facts` are the order's facts as computeOrder
 * saw them (rt.facts after it ran); the local date fields are computed here.
 */
export function whyNot(rt: Evaluation, s: MemberState, at: number, lines: readonly OrderLine[], calc: OrderCalc, applied: ReadonlySet<string>): NotApplied[] {
  const p = rt.plan.program;
  const out: NotApplied[] = [];
  const recs = calc.lines!;
  const local = rt.plan.zone.toLocal(at);
  const day = Math.floor(local / 86_400_000);
  const f: OrderFacts = { ...rt.facts, localDay: day, msOfDay: local - day * 86_400_000, weekday: (((day + 3) % 7) + 7) % 7 };
  const money = (minor: number) => `${fromMinorUnits(minor, p.currencyExponent)} ${p.currency}`;
  const matching = (matches: ((category: string, sku: string) => boolean) | null) => {
    let any = false;
    let paid = 0;
    let qty = 0;
    for (let i = 0; i < recs.length; i++) {
      const rec = recs[i]!;
      if (rec[3] !== 1 || (matches !== null && !matches(lines[i]!.category, rec[0]))) continue;
      any = true;
      paid += rec[2];
      qty += rec[1];
    }
    return { any, paid, qty };
  };

  for (let ri = 0; ri < p.rules.length; ri++) {
    const r = p.rules[ri]!;
    if (applied.has(r.name)) continue;
    const no = (reason: NotAppliedReason, message: string, line = r.line, resetsAt: number | null = null) => out.push({ rule: r.name, reason, message, line, resetsAt });
    if (calc.items === 0) {
      no('NO_ELIGIBLE_LINE', 'the order has no eligible line (every line is excluded by the program)');
      continue;
    }
    const failed = r.conditions.find((c) => !c.test(f));
    if (failed) {
      no('CONDITION', `\`${failed.text}\` does not hold for this order`, failed.line);
      continue;
    }
    const m = matching(r.matches);
    if (!m.any) {
      no('NO_MATCHING_LINE', `no eligible line of the order matches ${describeFilter(r.filter!)}`);
      continue;
    }
    const c = effectPoints(r, m.paid, m.qty, p.base?.rate);
    if (c <= 0) {
      no('NOTHING_EARNED', 'its effect comes to 0 points on this order', r.effectLine);
      continue;
    }
    const lim = r.limit;
    // Only a used-up limit is left: a rule with room under it would have applied.
    if (lim !== null) {
      const slot = lim.period === 'order' ? -1 : 2 * rt.plan.ruleSlot[ri]!;
      const used = slot >= 0 && s.limitUses[slot] === periodKey(lim.period, day) ? s.limitUses[slot + 1]! : 0;
      const unit = lim.unit === 'points' ? 'points' : 'times';
      no('LIMIT_USED', `its limit of ${lim.amount} ${unit} per ${lim.period} is used up (${used} ${PERIOD_WORD[lim.period]})`, r.line, periodEnd(rt, lim.period, day));
    }
  }

  const progress = s.challenges;
  for (let ci = 0; ci < p.challenges.length; ci++) {
    const c = p.challenges[ci]!;
    if (applied.has(c.rule)) continue;
    const g = c.goal;
    const resetsAt = periodEnd(rt, g.period, day);
    const no = (reason: NotAppliedReason, message: string, line = c.line) => out.push({ rule: c.rule, reason, message, line, resetsAt });
    const m = calc.items === 0 ? { any: false, paid: 0 } : matching(c.matches);
    if (!m.any) {
      no('NO_MATCHING_LINE', c.filter ? `the order does not count: no eligible line matches ${describeFilter(c.filter)}` : 'the order does not count: it has no eligible line');
      continue;
    }
    const k = 3 * ci;
    const same = progress !== undefined && progress.length === 3 * p.challenges.length && progress[k] === periodKey(g.period, day);
    if (same && progress[k + 2] === 1) {
      no('ALREADY_COMPLETED', g.period === 'member' ? 'already completed (once ever)' : `already completed ${PERIOD_WORD[g.period]}`);
      continue;
    }
    const value = (same ? progress[k + 1]! : 0) + (g.metric === 'orders' ? 1 : m.paid);
    const of = g.metric === 'orders' ? `${value} of ${g.amount} orders` : `${money(value)} of ${money(g.amount)}`;
    no('GOAL_NOT_REACHED', `${of} ${PERIOD_WORD[g.period]} with this order`);
  }
  return out;
}
