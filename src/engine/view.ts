// Read-only views of a member for the API: balance, tier and progress,
// clubs, and a dry-run quote of an order. Nothing here mutates its input.
import type { Discount, Program } from '../../dsl/program.ts';
import type { Rat } from './arith.ts';
import { bringTo, challengeContributions, clubsAt, computeOrder, contributions, membership, metricValue, referralApplies, evaluation, tierIndexOf, type Contribution } from './engine.ts';
import type { LedgerEntry, MemberState, OrderLine } from './types.ts';
import { currentState } from './state.ts';
import { whyNot, type NotApplied } from './why.ts';

/** A discount of a tier or club: the percentage as written, and the
 * categories it is on (null: `on everything`). */
export interface DiscountView {
  percent: string;
  categories: string[] | null;
}

export interface TierView {
  name: string;
  index: number;
  multiplier: string | null;
  /** The tier's own discounts (dsl.md 2.4: not inherited). */
  discounts: DiscountView[];
  perks: string[];
}

export function discountView(d: Discount): DiscountView {
  return { percent: d.text, categories: d.categories === null ? null : [...d.categories] };
}

export interface ProgressView {
  metric: 'spend' | 'points' | 'orders';
  /** The qualifying value now (minor units for spend; rounded down). */
  value: number;
  nextTier: string | null;
  /** How much more is needed for the next tier (rounded up), or null at the top. */
  remaining: number | null;
  /** End of a downgrade grace period, if one is running. */
  graceUntil: number | null;
}

export interface ClubView {
  name: string;
  since: number;
  until: number | null;
  perks: string[];
}

export interface MemberView {
  id: string;
  signupAt: number;
  birthday: string | null;
  referrer: string | null;
  balance: number;
  orders: number;
  tier: TierView | null;
  progress: ProgressView | null;
  clubs: ClubView[];
  perks: string[];
}

const floorRat = (r: Rat) => Math.floor(r[0] / r[1]);
const ceilRat = (r: Rat) => Math.ceil(r[0] / r[1]);

/** The member as of `at` (no later than its clock: nothing is applied). */
export function memberView(program: Program, s: MemberState, at: number = s.at): MemberView {
  currentState(s);
  const rt = evaluation(program);
  const idx = tierIndexOf(rt.plan, s);
  const t = idx >= 0 ? program.tiers[idx] : undefined;
  const tier: TierView | null = t ? { name: t.name, index: t.index, multiplier: t.multiplierText, discounts: t.discounts.map(discountView), perks: [...t.perks] } : null;
  let progress: ProgressView | null = null;
  if (program.metric && t) {
    const v = s.layout === rt.plan.layout ? metricValue(rt, s, at) : ([0, 1] as Rat);
    const next = program.tiers[idx + 1];
    progress = {
      metric: program.metric,
      value: floorRat(v),
      nextTier: next?.name ?? null,
      remaining: next ? Math.max(0, ceilRat([next.threshold * v[1] - v[0], v[1]])) : null,
      graceUntil: s.graceUntil,
    };
  }
  const clubs: ClubView[] = clubsAt(program, s, at).map((name) => {
    const c = program.clubs[program.clubIndex.get(name)!]!;
    const m = membership(s, c.index)!;
    return { name, since: m.start, until: m.end, perks: [...c.perks] };
  });
  const perks = [...new Set([...(tier?.perks ?? []), ...clubs.flatMap((c) => c.perks)])];
  return { id: s.id, signupAt: s.signupAt, birthday: s.birthday, referrer: s.referrer, balance: s.balance, orders: s.orders, tier, progress, clubs, perks };
}

export interface Quote {
  /** Points the order would earn for the member (referee reward included). */
  points: number;
  entries: Contribution[];
  /** Eligible paid amount after tier and club discounts, minor units. */
  total: number;
  discounts: { sku: string; amount: number }[];
  perks: string[];
  /** Time-driven entries that would be written first (expiry, birthday). */
  pending: LedgerEntry[];
  /** Every rule and challenge the order gets nothing from, and why. */
  notApplied: NotApplied[];
}

/** What an order would earn, without writing anything. */
export function quote(program: Program, state: MemberState, order: { at: number; lines: OrderLine[]; channel?: string | null }): Quote {
  const rt = evaluation(program);
  const s = currentState(structuredClone(state));
  const pending: LedgerEntry[] = [];
  if (order.at >= s.at) bringTo(rt, s, order.at, pending);
  const at = Math.max(order.at, s.at);
  const calc = computeOrder(rt, s, at, order.lines, order.channel ?? null, false);
  const entries = contributions(rt, calc);
  const ref = program.referral;
  if (ref && ref.referee > 0 && referralApplies(rt, s, order.at, calc.total)) entries.push({ rule: 'referral:referee', points: ref.referee, line: ref.refereeLine });
  // Challenge bonuses the order would reach (4.11), after the referral, as written.
  const end = challengeContributions(rt, s, at, order.lines, calc, false);
  for (let i = calc.count; i < end; i++) entries.push({ rule: rt.out.rule[i]!, points: rt.out.points[i]!, line: rt.out.line[i]! });
  const notApplied = whyNot(rt, s, at, order.lines, calc, new Set(entries.map((e) => e.rule)));
  const discounts = order.lines
    .map((l, i) => ({ sku: l.sku, amount: l.qty * l.price - calc.lines![i]![2] }))
    .filter((d) => d.amount > 0);
  return {
    points: entries.reduce((a, e) => a + e.points, 0),
    entries,
    total: calc.total,
    discounts,
    perks: memberView(program, s, order.at).perks,
    pending,
    notApplied,
  };
}
