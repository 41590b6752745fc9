// The compiled program: immutable rule objects, with line filters and
// conditions already turned into closures. This is all the engine sees.
import type { DurationUnit, Ratio } from './values.ts';

export type { Ratio, DurationUnit };

export interface Duration {
  readonly amount: number;
  readonly unit: DurationUnit;
}

/** What a `when` expression and the time conditions read about an order. */
export interface OrderFacts {
  /** Eligible paid amount, minor units. */
  total: number;
  /** Quantity of eligible lines. */
  items: number;
  channel: string | null;
  /** Tier index at the start of the order, -1 when the program has no tiers. */
  tier: number;
  /** Active clubs by declaration index. */
  clubs: readonly boolean[];
  firstOrder: boolean;
  /** Local calendar day (days since 1970-01-01 in the program timezone). */
  localDay: number;
  /** 0 = Monday … 6 = Sunday. */
  weekday: number;
  /** Milliseconds since local midnight. */
  msOfDay: number;
}

export type Period = 'order' | 'day' | 'week' | 'month' | 'year' | 'member';

export interface Limit {
  readonly unit: 'points' | 'times';
  readonly amount: number;
  readonly period: Period;
}

export type Effect =
  | { readonly kind: 'multiplier'; readonly factor: Ratio; readonly text: string }
  | { readonly kind: 'extra'; readonly rate: Ratio }
  | { readonly kind: 'bonus'; readonly points: number; readonly perItem: boolean };

export interface Rule {
  readonly name: string;
  readonly index: number;
  /** Line of the `rule` header, and of the effect statement. */
  readonly line: number;
  readonly effectLine: number;
  /** Whether a line matches the rule's filters; null when it has none. */
  readonly matches: ((category: string, sku: string) => boolean) | null;
  /** The filters as data (the union of each kind's lists), null when none. */
  readonly filter: LineFilter | null;
  /** All conditions; null when it has none. */
  readonly condition: ((f: OrderFacts) => boolean) | null;
  /** The same conditions as a JavaScript expression over `f` (OrderFacts),
   * for the engine's generated order evaluation; null when none. */
  readonly conditionJs: string | null;
  /** Whether the conditions read local date or time. */
  readonly usesLocalTime: boolean;
  /** Each condition on its own, as written, for a quote's "why not". */
  readonly conditions: readonly RuleCondition[];
  readonly effect: Effect;
  readonly limit: Limit | null;
}

export interface LineFilter {
  readonly categories: readonly string[] | null;
  readonly skus: readonly string[] | null;
  readonly excludeCategories: readonly string[] | null;
  readonly excludeSkus: readonly string[] | null;
}

export interface BonusSpec {
  readonly points: number;
  readonly line: number;
}

export interface EventBonus extends BonusSpec {
  readonly name: string;
  readonly limit: Limit | null;
}

export interface Tier {
  readonly name: string;
  /** The ledger rule of its multiplier: `tier:NAME`. */
  readonly tierRule: string;
  readonly index: number;
  /** Minor units for the spend metric, a count otherwise. */
  readonly threshold: number;
  readonly multiplier: Ratio | null;
  readonly multiplierText: string | null;
  readonly multiplierLine: number | null;
  /** The tier's own discounts (not inherited by higher tiers). */
  readonly discounts: readonly Discount[];
  readonly perks: readonly string[];
  readonly line: number;
}

export type Metric = 'spend' | 'points' | 'orders';
export type TierWindow = { readonly kind: 'rolling'; readonly duration: Duration } | { readonly kind: 'calendar-year' } | { readonly kind: 'lifetime' };

/** `discount P% on category ...` (categories) or `on everything` (null). */
export interface Discount {
  readonly categories: ReadonlySet<string> | null;
  readonly percent: Ratio;
  readonly text: string;
  readonly line: number;
}
export type ClubDiscount = Discount;

export interface Club {
  readonly name: string;
  /** The ledger rule of its multiplier: `club:NAME`. */
  readonly rule: string;
  readonly index: number;
  readonly fee: { readonly amount: number; readonly per: 'month' | 'year'; readonly text: string } | null;
  readonly multiplier: Ratio | null;
  readonly multiplierText: string | null;
  readonly multiplierLine: number | null;
  readonly discounts: readonly Discount[];
  readonly perks: readonly string[];
  readonly joinBonus: number;
  readonly joinLine: number | null;
  readonly line: number;
}

export interface Referral {
  readonly referrer: number;
  readonly referee: number;
  readonly referrerLine: number | null;
  readonly refereeLine: number | null;
  /** Minor units. */
  readonly minOrder: number;
  readonly within: Duration | null;
  readonly limitPerYear: number | null;
}

export interface Redeem {
  /** `rate N points = X`: value of P points is floor(P × X / N) minor units. */
  readonly points: number;
  readonly value: number;
  readonly min: number;
  readonly maxPercent: Ratio | null;
  readonly line: number;
}

export interface Expire {
  readonly mode: 'lots' | 'inactivity';
  readonly after: Duration;
  readonly line: number;
}

/** What a reward's `when` reads about a member (dsl.md 2.8, 2.9): no order. */
export interface RewardFacts {
  /** Tier index at the time, -1 when the program has no tiers. */
  tier: number;
  /** Active clubs by declaration index. */
  clubs: readonly boolean[];
}

/** One condition of a rule (`during`, `days`, `hours` or `when`). */
export interface RuleCondition {
  /** The statement as written (formatted), e.g. `days sat, sun`. */
  readonly text: string;
  readonly line: number;
  readonly test: (f: OrderFacts) => boolean;
}

export interface RewardCondition {
  /** The expression as written (formatted), for explanations. */
  readonly text: string;
  readonly line: number;
  readonly test: (f: RewardFacts) => boolean;
}

/** A catalog reward (dsl.md 2.9): redeemed by a `redeem_reward` event (4.10). */
export interface Reward {
  readonly name: string;
  /** The ledger rule of its redemption: `reward:NAME`. */
  readonly rule: string;
  readonly index: number;
  /** Points, more than 0. */
  readonly cost: number;
  readonly costLine: number;
  /** Every `when`; all must hold. */
  readonly conditions: readonly RewardCondition[];
  /** A count limit: at most `amount` redemptions per calendar period (or ever, `member`). */
  readonly limit: { readonly amount: number; readonly period: Exclude<Period, 'order'> } | null;
  /** `value`, minor units, shown to frontends only; null without one. */
  readonly value: number | null;
  readonly line: number;
}

/** A challenge (dsl.md 2.10, 4.11): a bonus on the first order of a calendar
 * period (or of the member's life) that reaches the goal. */
export interface Challenge {
  readonly name: string;
  /** The ledger rule of its bonus: `challenge:NAME`. */
  readonly rule: string;
  readonly index: number;
  /** `orders N per P` (a count of counting orders) or `spend MONEY per P`
   * (minor units of the eligible matching lines' paid amounts). */
  readonly goal: { readonly metric: 'orders' | 'spend'; readonly amount: number; readonly period: Exclude<Period, 'order'>; readonly text: string };
  /** Whether a line matches the challenge's filters; null when it has none. */
  readonly matches: ((category: string, sku: string) => boolean) | null;
  readonly filter: LineFilter | null;
  /** Points, more than 0. */
  readonly bonus: number;
  readonly bonusLine: number;
  readonly line: number;
}

export interface Program {
  readonly name: string;
  readonly fileName: string;
  readonly source: string;
  /** sha256 of the source text, hex. */
  readonly hash: string;
  readonly currency: string;
  readonly currencyExponent: number;
  readonly timezone: string;
  readonly unit: string;
  /** Base earn rate in points per minor unit, and its line. */
  readonly base: { readonly rate: Ratio; readonly line: number } | null;
  /** `pending D` (2.1, 4.9): an order's points vest D after it; null: written at the order. */
  readonly pending: Duration | null;
  readonly excludeCategories: ReadonlySet<string>;
  readonly excludeSkus: ReadonlySet<string>;
  readonly rules: readonly Rule[];
  readonly signup: BonusSpec | null;
  readonly birthday: BonusSpec | null;
  readonly events: ReadonlyMap<string, EventBonus>;
  readonly tiers: readonly Tier[];
  readonly metric: Metric | null;
  readonly window: TierWindow;
  readonly keep: Duration | null;
  readonly clubs: readonly Club[];
  readonly clubIndex: ReadonlyMap<string, number>;
  readonly referral: Referral | null;
  readonly redeem: Redeem | null;
  readonly hasRedeem: boolean;
  readonly expire: Expire | null;
  /** The rewards catalog, in source order, and each reward's index by name. */
  readonly rewards: readonly Reward[];
  readonly rewardIndex: ReadonlyMap<string, number>;
  /** Challenges, in source order (the order their bonuses are written). */
  readonly challenges: readonly Challenge[];
  /** Source lines by number (1-based; index 0 unused), for explanations. */
  readonly lines: readonly string[];
}
