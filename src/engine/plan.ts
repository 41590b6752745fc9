// What the engine derives once from a compiled program (dsl.md section
// numbers as in engine.ts): limit and club slots, the state layout, discount
// tables, the rules' line masks, and the functions of it that both the
// interpreter (engine.ts) and the generated order evaluation (codegen.ts)
// call. Nothing here writes a member state or keeps an evaluation's results.
import type { OrderFacts, Period, Program } from '../../dsl/program.ts';
import { civilFromDays } from '../../dsl/values.ts';
import { mulDivFloor } from './arith.ts';
import type { Zone } from './time.ts';
import type { MemberState, OrderLine, OrderLineRec } from './types.ts';

/** The contributions of the order being computed, in three columns (no
 * object per contribution on the hot path). */
export interface Scratch {
  rule: string[];
  points: number[];
  line: (number | null)[];
}

export interface OrderCalc {
  /** The lines as kept for refunds; null from the generated evaluation, which
   * leaves each line's paid amount and eligibility in linePaid / lineElig. */
  lines: OrderLineRec[] | null;
  /** Eligible paid amount and quantity. */
  total: number;
  items: number;
  base: number;
  /** The contributions, in order, are in `out` (rule, points, line) until
   * the next call. */
  count: number;
}

/** What one order evaluation writes and its caller reads right after. */
export interface OrderScratch {
  out: Scratch;
  /** Facts for `when` conditions (filled per order). */
  facts: OrderFacts;
  /** The rule masks of the order's lines (the reference evaluation). */
  lineMasks: number[];
  /** Each line's paid amount and eligibility (the generated evaluation). */
  linePaid: Float64Array;
  lineElig: Uint8Array;
  /** The generated evaluation's result, reused. */
  calc: OrderCalc;
}

export function newScratch(): OrderScratch {
  return {
    out: { rule: [], points: [], line: [] },
    facts: { total: 0, items: 0, channel: null, tier: -1, clubs: [], firstOrder: false, localDay: 0, weekday: 0, msOfDay: 0 },
    lineMasks: [],
    linePaid: new Float64Array(64),
    lineElig: new Uint8Array(64),
    calc: { lines: null, total: 0, items: 0, base: 0, count: 0 },
  };
}

/** Steps 1–7 of an order into `x` (codegen.ts). */
export type OrderFn = (x: OrderScratch, s: MemberState, at: number, lines: readonly OrderLine[], channel: string | null) => OrderCalc;

export interface Plan {
  readonly program: Program;
  readonly zone: Zone;
  readonly tierIndex: ReadonlyMap<string, number>;
  readonly metricKey: string;
  /** Limit slots: rules with a limit (by rule index), then event bonuses
   * with one, then rewards with one (`reward:NAME`). */
  readonly limitNames: readonly string[];
  readonly ruleSlot: readonly number[];
  readonly eventSlot: ReadonlyMap<string, number>;
  /** Limit slot by reward index, -1 for a reward without a limit. */
  readonly rewardSlot: readonly number[];
  readonly clubNames: readonly string[];
  /** Challenges in source order, each by its name and its goal's metric and
   * period (three numbers each in MemberState.challenges): progress carries
   * over to another program version only for the same name, metric and period. */
  readonly challengeKeys: readonly string[];
  /** Identifies the metric, limit, club and challenge layout of member states. */
  readonly layout: string;
  /** Whether order evaluation needs the local date and time. */
  readonly needsLocal: boolean;
  /** category → [source, percent numerator, percent denominator], where a
   * source ≥ 0 is a club index and −1 − t is tier t (dsl.md 4.2 step 2). */
  readonly discounts: ReadonlyMap<string, readonly [number, number, number][]>;
  /** The `on everything` discounts, the same way. */
  readonly discountsAll: readonly [number, number, number][];
  /** Whether any club has a discount; whether each tier has one. */
  readonly clubDiscounts: boolean;
  readonly tierDiscounts: readonly boolean[];
  /** All clubs inactive (shared, never written). */
  readonly noClubs: readonly boolean[];
  /** Which rules' filters a line matches, as a bit mask by rule index, by
   * category and sku: a memo of the rules' compiled filters (null when the
   * program has over 30 rules). */
  readonly masks: Map<string, Map<string, number>> | null;
  /** The program's generated order evaluation (codegen.ts). */
  readonly orderFn: OrderFn;
}

/** Bit r is set when rule r's filters match a line of this category and
 * sku (rules without filters match every line). The one way the engine
 * reads a rule's filters, in both evaluations. */
export function lineMask(plan: Omit<Plan, 'orderFn'>, category: string, sku: string): number {
  const masks = plan.masks!;
  let bySku = masks.get(category);
  if (bySku === undefined) {
    if (masks.size > 10_000) masks.clear();
    masks.set(category, (bySku = new Map()));
  }
  let m = bySku.get(sku);
  if (m === undefined) {
    m = 0;
    const rules = plan.program.rules;
    for (let r = 0; r < rules.length; r++) if (rules[r]!.matches === null || rules[r]!.matches!(category, sku)) m |= 1 << r;
    if (bySku.size > 10_000) bySku.clear();
    bySku.set(sku, m);
  }
  return m;
}

export function contribute(sc: Scratch, n: number, rule: string, points: number, line: number | null): number {
  sc.rule[n] = rule;
  sc.points[n] = points;
  sc.line[n] = line;
  return n + 1;
}

export function tierIndexOf(plan: Omit<Plan, 'orderFn'>, s: MemberState): number {
  if (s.tier === null) return -1;
  // A handful of tiers: comparing names (usually the same string) beats hashing.
  const tiers = plan.program.tiers;
  for (let i = 0; i < tiers.length; i++) if (tiers[i]!.name === s.tier) return i;
  return 0;
}

export function isActive(s: MemberState, i: number, t: number): boolean {
  const start = s.clubs[2 * i];
  if (start === null || start === undefined || start > t) return false;
  const end = s.clubs[2 * i + 1];
  return end === null || end === undefined || t < end;
}

export function activeClubs(plan: Omit<Plan, 'orderFn'>, s: MemberState, t: number): readonly boolean[] {
  const n = plan.clubNames.length;
  let flags: boolean[] | null = null;
  for (let i = 0; i < n; i++) {
    if (!isActive(s, i, t)) continue;
    flags ??= plan.noClubs.slice();
    flags[i] = true;
  }
  return flags ?? plan.noClubs;
}

/** Whether the order of a member with these active clubs and this tier (at
 * the start of the order) can have a discounted line. */
export function discountsApply(plan: Omit<Plan, 'orderFn'>, clubs: readonly boolean[], tier: number): boolean {
  return (plan.clubDiscounts && clubs !== plan.noClubs) || (tier >= 0 && plan.tierDiscounts[tier] === true);
}

/** Step 2 of an order: the one discount of a line of this category and
 * amount, the largest among the tier's and the active clubs' discounts that
 * match it (never added together), in minor units. */
export function lineDiscount(plan: Omit<Plan, 'orderFn'>, clubs: readonly boolean[], tier: number, category: string, amount: number): number {
  let best = 0;
  const ds = plan.discounts.get(category);
  if (ds !== undefined)
    for (const [src, n, d] of ds) if (src >= 0 ? clubs[src] === true : -1 - src === tier) best = Math.max(best, mulDivFloor(amount, n, 100 * d));
  for (const [src, n, d] of plan.discountsAll) if (src >= 0 ? clubs[src] === true : -1 - src === tier) best = Math.max(best, mulDivFloor(amount, n, 100 * d));
  return best;
}

export function monthKey(day: number): number {
  const c = civilFromDays(day);
  return c.y * 12 + c.m - 1;
}

/** The calendar period (in the program timezone) a local day falls in. */
export function periodKey(period: Period, localDay: number): number {
  switch (period) {
    case 'day':
      return localDay;
    case 'week':
      return Math.floor((localDay + 3) / 7); // weeks start on Monday
    case 'month':
      return monthKey(localDay);
    case 'year':
      return civilFromDays(localDay).y;
    default:
      return 0;
  }
}
