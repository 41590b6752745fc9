// The engine's inputs and outputs. Instants are epoch milliseconds (UTC),
// money is integer minor units of the program currency, points are integers.
import type { Rat } from './arith.ts';

export type EntryKind = 'earn' | 'redeem' | 'expire' | 'reverse';

export interface LedgerEntry {
  member: string;
  at: number;
  kind: EntryKind;
  points: number;
  rule: string | null;
  ref: string | null;
  /** The program source line that produced the entry (null for a reversal). */
  line: number | null;
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
  | { type: 'tick'; at: number };

export type MemberEvent = Exclude<EngineEvent, { type: 'tick' }>;

/** Where the engine reads members (and, optionally, order ids) from. */
export interface World {
  get(memberId: string): MemberState | undefined;
  /** Whether an order id is already used (by any member). Without it the
   * caller is responsible for uniqueness. */
  orderIdTaken?(orderId: string): boolean;
}

export interface Outcome {
  /** Why the event was refused, or null. */
  error: string | null;
  /** Entries written, in order (time-driven entries of a refused event too). */
  entries: LedgerEntry[];
  /** Every member state changed or created. */
  changed: MemberState[];
}

/** One line of an accepted order, as kept for refunds:
 * [sku, qty, paid (minor units), eligible (1/0), refunded qty]. */
export type OrderLineRec = [string, number, number, number, number];

export interface OrderRec {
  at: number;
  /** Sum of the order's earn entries other than referral rewards. */
  e: number;
  /** Eligible paid amount. */
  p: number;
  /** Points reversed so far. */
  rev: number;
  lines: OrderLineRec[];
}

/** A contribution to the tier metric: [at, leaves the window at (null:
 * never), value numerator, value denominator, order id or null]. */
export type MetricEntry = [number, number | null, number, number, string | null];

/**
 * Everything the engine remembers about a member between events. A plain
 * JSON value: the server stores it, replay may keep it in memory.
 */
export interface MemberState {
  v: 1;
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
  /** Tier metric: which metric and window the entries were made for. */
  metricKey: string;
  metric: MetricEntry[];
  /** Lifetime total of the metric (used by `over lifetime`). */
  life: Rat;
  /** Limit use per rule (`rule name`) or event (`event:NAME`): [period key, used]. */
  limits: Record<string, [number, number]>;
  /** Latest membership per club name: [start, end or null]. */
  clubs: Record<string, [number, number | null]>;
  /** Referral rewards received as referrer in local calendar year `refYear`. */
  refYear: number;
  refCount: number;
  nextBirthday: number | null;
  /** Lot expiry: [expires at, remaining points], oldest first; deficit covered first by new earnings. */
  lots: [number, number][];
  deficit: number;
  /** Inactivity expiry: when the balance expires unless there is activity. */
  inactiveAt: number | null;
  orderLog: Record<string, OrderRec>;
}
