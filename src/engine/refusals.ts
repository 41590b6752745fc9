// Why the engine refused an event: a stable code a client can act on, a
// message for a person (money in the program currency, never minor units),
// and the figures behind it. Built only when an event is refused, so the
// accepted path allocates nothing for it.
import type { Program } from '../../dsl/program.ts';
import { fromMinorUnits } from '../../dsl/values.ts';

export type RefusalCode =
  | 'UNKNOWN_MEMBER'
  | 'ALREADY_SIGNED_UP'
  | 'SELF_REFERRAL'
  | 'UNKNOWN_REFERRER'
  | 'OUT_OF_ORDER'
  | 'UNREADABLE_STATE'
  | 'DUPLICATE_ORDER'
  | 'UNKNOWN_ORDER'
  | 'SKU_NOT_ON_ORDER'
  | 'REFUND_EXCEEDS_ORDER'
  | 'NO_REDEMPTION'
  | 'BELOW_MINIMUM'
  | 'INSUFFICIENT_POINTS'
  | 'ABOVE_MAX_SHARE'
  | 'UNKNOWN_CLUB'
  | 'ALREADY_IN_CLUB'
  | 'NOT_IN_CLUB'
  | 'NOT_A_MEMBER_EVENT'
  | 'UNKNOWN_REWARD'
  | 'REWARD_CONDITION_FALSE'
  | 'REWARD_LIMIT_REACHED';

/** The figures a refusal is about; which are present depends on the code. */
export interface RefusalFigures {
  /** Points the member has (INSUFFICIENT_POINTS). */
  balance?: number;
  /** Points the event asked for (BELOW_MINIMUM, INSUFFICIENT_POINTS, ABOVE_MAX_SHARE). */
  requested?: number;
  /** Points it would take: the minimum (BELOW_MINIMUM). */
  required?: number;
  /** The most the event may be worth, minor units (ABOVE_MAX_SHARE). */
  max?: number;
  /** What the event would have been worth, minor units (ABOVE_MAX_SHARE). */
  value?: number;
  /** Quantity still refundable (REFUND_EXCEEDS_ORDER). */
  refundable?: number;
  /** Redemptions of the reward in the limit's period, and the limit (REWARD_LIMIT_REACHED). */
  used?: number;
  limit?: number;
  /** The `when` of the reward that does not hold, as written (REWARD_CONDITION_FALSE). */
  condition?: string;
  /** The member's last event, epoch ms (OUT_OF_ORDER). */
  last?: number;
}

export interface Refusal extends RefusalFigures {
  code: RefusalCode;
  message: string;
}

export function refusal(code: RefusalCode, message: string, figures: RefusalFigures = {}): Refusal {
  return { code, message, ...figures };
}

/** `12.40 USD`, `500 JPY`: an amount of minor units written in the program currency. */
export function formatCurrency(program: Pick<Program, 'currency' | 'currencyExponent'>, minor: number): string {
  return `${fromMinorUnits(minor, program.currencyExponent)} ${program.currency}`;
}
