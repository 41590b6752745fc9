// The engine's inputs and outputs. Instants are epoch milliseconds (UTC),
// money is integer minor units of the program currency, points are integers.

import type { Refusal } from './refusals.ts';

export type EntryKind = 'earn' | 'redeem' | 'expire' | 'reverse' | 'adjust';

export interface LedgerEntry {
  member: string;
  at: number;
  kind: EntryKind;
  points: number;
  rule: string | null;
  ref: string | null;
  /** The program source line that produced the entry (null for a reversal). */
  line: number | null;
  /** The program version (sha256 of its source) that produced it. */
  version: string;
}

export interface OrderLine {
  sku: string;
  category: string;
  qty: number;
  /** Unit price, minor units. */
  price: number;
}

export interface RefundLine {
  sku: string;
  qty: number;
}

export type EngineEvent =
  | { type: 'signup'; at: number; member: string; birthday?: string | null; referrer?: string | null }
  | { type: 'order'; at: number; member: string; id: string; lines: OrderLine[]; channel?: string | null }
  | { type: 'refund'; at: number; member: string; order: string; lines: RefundLine[] }
  | { type: 'redeem'; at: number; member: string; points: number; orderTotal?: number | null }
  | { type: 'join_club'; at: number; member: string; club: string }
  | { type: 'cancel_club'; at: number; member: string; club: string }
  | { type: 'event'; at: number; member: string; name: string }
  /** A correction by the merchant's staff (dsl.md 4.12): non-zero points, either sign. */
  | { type: 'adjust'; at: number; member: string; points: number; reason?: string | null }
  /** Redeeming a catalog reward by name (dsl.md 2.9, 4.10). */
  | { type: 'redeem_reward'; at: number; member: string; reward: string }
  | { type: 'tick'; at: number };

export type MemberEvent = Exclude<EngineEvent, { type: 'tick' }>;

/** Where the engine reads members and accepted orders from. */
export interface World {
  get(memberId: string): MemberState | undefined;
  /** An accepted order by id (of any member: order ids are unique). */
  order(orderId: string): OrderRec | undefined;
}

export interface Outcome {
  /** Why the event was refused (refusal.message), or null. */
  error: string | null;
  /** Why the event was refused: its code and figures, or null. */
  refusal: Refusal | null;
  /** Entries written, in order (time-driven entries of a refused event too). */
  entries: LedgerEntry[];
  /** Every member state changed or created. */
  changed: MemberState[];
  /** The order record created (by an order) or changed (by a refund), to keep. */
  order: OrderRec | null;
}

/** One line of an accepted order, as kept for refunds:
 * [sku, qty, paid (minor units), eligible (1/0), refunded qty]. */
export type OrderLineRec = [string, number, number, number, number];

/** An accepted order, as kept for refunds (a plain JSON value). */
export interface OrderRec {
  id: string;
  member: string;
  at: number;
  /** The order's number among the member's orders (1 for the first). */
  seq: number;
  /** Sum of the order's earn entries other than referral rewards and challenge bonuses (4.8 E). */
  earned: number;
  /** Eligible paid amount. */
  eligiblePaid: number;
  /** Points reversed so far. */
  reversed: number;
  lines: OrderLineRec[];
}

/**
 * Everything the engine remembers about a member between events. A plain
 * JSON value: the server stores it, replay may keep it in memory. Lists are
 * kept as parallel arrays of numbers (cheap to scan, and to store).
 */
export interface MemberState {
  /** The state's version (7; states of versions 4, 5 and 6 are upgraded on reading, state.ts). */
  v: 7;
  id: string;
  signupAt: number;
  birthday: string | null;
  referrer: string | null;
  /** The member's clock: the last time it was brought to. */
  at: number;
  balance: number;
  /** Accepted orders (refunded or not). */
  orders: number;
  /** Current tier name (null without tiers) and the end of a grace period. */
  tier: string | null;
  graceUntil: number | null;
  /** A time by which the tier could next change with time alone, kept
   * between events (state.ts NEVER: never; EARLIER: to be worked out
   * again). Never later than the real one: new contributions only put that
   * later. */
  tierDue: number;
  /** When bringing the member forward next changes anything (NEVER: never;
   * EARLIER, in a state upgraded from before 1970: to be worked out again).
   * (A number, never null: V8 then keeps it unboxed, and it is written on
   * every event.) */
  due: number;
  /** The program layout the lists below were written for (metric and
   * window, limit and club slots); another program version re-maps them. */
  layout: string;
  /** Tier metric contributions in the window, in the order they leave it:
   * five numbers each (when, when it leaves the window, value numerator,
   * value denominator, and the order's number among the member's orders, or
   * 0 for a contribution that is not an order's). */
  metricEntries: number[];
  /** Sum of the integral values above, and how many are fractional. */
  metricSum: number;
  metricFractional: number;
  /** Lifetime total of the metric (used by `over lifetime`), [num, den]. */
  life: [number, number];
  /** Limit use, two numbers a slot (rules with a limit, then event bonuses
   * with one): the period key and what was used in it. */
  limitUses: number[];
  /** Latest membership by club (declaration order), two values a club:
   * start and end (null: never joined; no end). */
  clubs: (number | null)[];
  /** Referral rewards received as referrer in local calendar year `refYear`. */
  refYear: number;
  refCount: number;
  nextBirthday: number | null;
  /** Lot expiry: lots oldest first, two numbers each (when it expires,
   * points left); a deficit is covered first by new earnings. */
  lots: number[];
  /** Whether the lots' expiry times ascend (they do, except around an
   * autumn DST change). */
  lotsInOrder: boolean;
  deficit: number;
  /** Inactivity expiry: when the balance expires unless there is activity. */
  inactiveAt: number | null;
  /** Challenge progress (dsl.md 4.11), three numbers a challenge in source
   * order: the calendar period key of the last counting order (0 for `per
   * member`), the progress in it (counting orders, or spend in minor
   * units) and whether the bonus was awarded in it (1/0). Absent in states
   * written before challenges existed: no progress. */
  challenges?: number[];
  /** Points computed but not yet written (`pending`, dsl.md 4.9), in the
   * order they were scheduled: one vesting an order (the member's own, its
   * contributions, referee's reward and challenge bonuses included) or a
   * referrer's reward, as numbers: the vesting instant (the order's time +
   * the `pending` duration), the order's number among the member's orders
   * (0 for a referrer's reward), how many contributions, then two numbers a
   * contribution in the order of dsl.md 4.2: its points (what is left after
   * refunds) and the program source line that produced it (0: none). One
   * flat list, not an object a vesting: a pending order lives 14 days and
   * more, and the member's vestings are read on every event (updateDue). */
  vesting: number[];
  /** The same vestings' names: the order's id (the referee's, for a
   * referrer's reward), then each contribution's rule. */
  vestingNames: string[];
  /** When the first of those vests: the smallest of their instants
   * (NEVER: none), kept with them (updateDue reads it on every event). */
  nextVestAt: number;
  /** The instant of the last vesting in the list (EARLIER: none), and whether
   * their instants ascend in the list (they do, except when a DST change
   * makes a later order's `pending` days end sooner): then those due are
   * the first ones. */
  lastVestAt: number;
  vestingInOrder: boolean;
}

/** One order's points waiting to vest (dsl.md 4.9), as the server shows
 * them (vestingsOf): the member's own order, or the reward of a referrer
 * (then `seq` is 0 and `order` the referee's). */
export interface Vesting {
  order: string;
  /** The order's number among the member's orders; 0 for a referrer's reward. */
  seq: number;
  /** The vesting instant: the order's time + the `pending` duration. */
  at: number;
  /** In the order of dsl.md 4.2; points are what is left after refunds. */
  contributions: VestingContribution[];
}

export interface VestingContribution {
  rule: string;
  points: number;
  /** The program source line that produced it. */
  line: number | null;
}
