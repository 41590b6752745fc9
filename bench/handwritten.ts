// examples/coffee-chain.loyalty ("Bean & Leaf Rewards") written by hand as
// plain functions: the yardstick the engine is measured against, and a second,
// independent implementation of dsl.md / replay.md for this one program.
//
//   node --import tsx bench/handwritten.ts EVENTS.jsonl > result.json
//
// Money is integer cents, time is epoch milliseconds, every timestamp is
// parsed once, time-zone offsets are cached per local day, input is streamed.
//
// The program, as implemented here:
//   currency USD, timezone America/New_York, base 10 points per 1 USD,
//   exclude category "gift-card", "tax"
//   rule "Pastry pairing"        category pastry, multiplier 2x, limit 100 points per day
//   rule "Afternoon lull"        days mon-fri, hours 14:00-17:00, extra 5 points per 1 USD
//   rule "First coffee of the day" category espresso, brewed, bonus 15, once per day
//   rule "Weekend beans"         category whole-beans, days sat sun, 50 points per item, limit 200 points per week
//   rule "App order"             when channel == "app" and order.total >= 10 USD, bonus 25, limit 3 times per week
//   on signup 100, on birthday 500, on event "survey" 50 limit 1 times per month
//   tiers spend over 12 months: Green 0, Silver 250 USD (1.25x), Gold 750 USD (1.5x), keep 30 days
//   club "Bean Club": fee 9.99 USD per month, 2x, 15% off whole-beans, 200 points on join
//   referral: referrer 300, referee 150, min order 10 USD, within 30 days, limit 10 per year
//   redeem: 100 points = 1 USD, min 200, max 50% of order
//   expire after 12 months (lots)
//
// With `{ v2: true }` the program is bench/coffee-chain-v2.loyalty, the same
// with the language v2 features added:
//   pending 14 days (dsl.md 4.9): an order's points, and the referrer's reward
//     it triggers, are written 14 days later, dated then; a refund before that
//     takes its share off the pending points (base first)
//   tier discounts (4.2 step 2): Silver 10% on pastry; Gold 10% on pastry and
//     20% on whole-beans (the largest of it and the club's 15% applies)
//   reward "Free drink": cost 1000, when member.tier >= Silver, once per month (4.10)
//   challenge "Three visits a week": orders 3 per week, bonus 100 (4.11)

import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FastLineParser } from '../src/engine/jsonl.ts';
import { forEachLineBytes, writeAllSync } from '../src/cli/lines.ts';
import { DAY, HOUR, MINUTE, Zone, civilFromDays, daysFromCivil, daysInMonth, formatInstant, isLeap } from './tz.ts';

// ---------------------------------------------------------------- events (the engine's EngineEvent shape)

export interface HwOrderLine {
  sku: string;
  category: string;
  qty: number;
  /** minor units */
  price: number;
}

export type HwEvent =
  | { type: 'signup'; at: number; member: string; birthday?: string | null; referrer?: string | null }
  | { type: 'order'; at: number; member: string; id: string; lines: HwOrderLine[]; channel?: string | null }
  | { type: 'refund'; at: number; member: string; order: string; lines: { sku: string; qty: number }[] }
  | { type: 'redeem'; at: number; member: string; points: number; orderTotal?: number | null }
  | { type: 'join_club' | 'cancel_club'; at: number; member: string; club: string }
  | { type: 'event'; at: number; member: string; name: string }
  | { type: 'adjust'; at: number; member: string; points: number; reason?: string | null }
  | { type: 'redeem_reward'; at: number; member: string; reward: string }
  | { type: 'tick'; at: number };

export interface LedgerEntryJson {
  at: string;
  kind: 'earn' | 'redeem' | 'expire' | 'reverse' | 'adjust';
  points: number;
  rule: string | null;
  ref: string | null;
}

export interface ReplayResultJson {
  members: Record<string, { balance: number; pending?: number; tier: string | null; clubs: string[]; ledger: LedgerEntryJson[] }>;
  errors: { line: number; message: string }[];
}

// ---------------------------------------------------------------- parsing (replay.md)

let lastDatePrefix = '';
let lastDateDays = 0;

/** Parses `YYYY-MM-DDTHH:MM[:SS[.f]](Z|±HH:MM)` to epoch ms; NaN when malformed. */
export function parseInstant(s: string): number {
  const n = s.length;
  if (n < 17) return NaN;
  let days: number;
  if (s.startsWith(lastDatePrefix) && lastDatePrefix.length === 10 && s.charCodeAt(10) === 84) {
    days = lastDateDays;
  } else {
    const y = d4(s, 0);
    const mo = d2(s, 5);
    const d = d2(s, 8);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84) return NaN;
    if (d > daysInMonth(y, mo)) return NaN;
    days = daysFromCivil(y, mo, d);
    lastDatePrefix = s.slice(0, 10);
    lastDateDays = days;
  }
  const h = d2(s, 11);
  const mi = d2(s, 14);
  if (h < 0 || h > 23 || mi < 0 || mi > 59 || s.charCodeAt(13) !== 58) return NaN;
  let i = 16;
  let sec = 0;
  let ms = 0;
  if (s.charCodeAt(i) === 58) {
    sec = d2(s, i + 1);
    if (sec < 0 || sec > 59) return NaN;
    i += 3;
    if (s.charCodeAt(i) === 46) {
      i++;
      const from = i;
      let scale = 100;
      while (i < n) {
        const c = s.charCodeAt(i) - 48;
        if (c < 0 || c > 9) break;
        ms += c * scale;
        scale /= 10;
        i++;
      }
      if (i === from) return NaN;
      ms = Math.floor(ms);
    }
  }
  let off = 0;
  const c = s.charCodeAt(i);
  if (c === 90) {
    if (i + 1 !== n) return NaN;
  } else if (c === 43 || c === 45) {
    if (i + 6 !== n || s.charCodeAt(i + 3) !== 58) return NaN;
    const oh = d2(s, i + 1);
    const om = d2(s, i + 4);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return NaN;
    off = (oh * 60 + om) * MINUTE;
    if (c === 45) off = -off;
  } else return NaN;
  return days * DAY + h * HOUR + mi * MINUTE + sec * 1000 + ms - off;
}

function d2(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  if (a < 0 || a > 9 || b < 0 || b > 9) return -1;
  return a * 10 + b;
}

function d4(s: string, i: number): number {
  const a = d2(s, i);
  const b = d2(s, i + 2);
  if (a < 0 || b < 0) return -1;
  return a * 100 + b;
}

/** Decimal string of USD to cents; -1 when malformed or not a whole number of cents. */
export function parseMoney(s: string): number {
  const n = s.length;
  let i = 0;
  let whole = 0;
  while (i < n) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    whole = whole * 10 + c;
    i++;
  }
  if (i === 0) return -1;
  let frac = 0;
  if (i < n) {
    if (s.charCodeAt(i) !== 46) return -1;
    i++;
    const from = i;
    while (i < n) {
      const c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) return -1;
      const k = i - from;
      if (k === 0) frac += c * 10;
      else if (k === 1) frac += c;
      else if (c !== 0) return -1; // more than a cent's precision
      i++;
    }
    if (i === from) return -1;
  }
  const v = whole * 100 + frac;
  return Number.isSafeInteger(v) ? v : -1;
}

function isPosInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
}

function isDate(s: string): boolean {
  if (s.length !== 10 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return false;
  const y = d4(s, 0);
  const m = d2(s, 5);
  const d = d2(s, 8);
  return y >= 0 && m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(y, m);
}

const q = JSON.stringify;

/** Validates one decoded JSON value as an event (replay.md); a string is the error. */
export function parseEventValue(v: unknown): HwEvent | string {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'an event must be a JSON object';
  const o = v as Record<string, unknown>;
  const type = o.type;
  if (type === undefined || type === null) return 'missing field "type"';
  if (typeof type !== 'string') return 'field "type" must be a string';
  const atv = o.at;
  if (atv === undefined || atv === null) return 'missing field "at"';
  if (typeof atv !== 'string') return 'field "at" must be a string';
  const at = parseInstant(atv);
  if (at !== at) return `field "at" is not a time such as "2026-03-01T09:30:00Z": ${q(atv)}`;
  if (type === 'tick') return { type, at };
  const known =
    type === 'order' || type === 'signup' || type === 'refund' || type === 'redeem' || type === 'join_club' || type === 'cancel_club' || type === 'event' || type === 'adjust' || type === 'redeem_reward';
  if (!known) return `unknown event type ${q(type)}`;
  const member = o.member;
  if (member === undefined || member === null) return 'missing field "member"';
  if (typeof member !== 'string') return 'field "member" must be a string';
  switch (type) {
    case 'order': {
      const id = o.id;
      if (id === undefined || id === null) return 'missing field "id"';
      if (typeof id !== 'string') return 'field "id" must be a string';
      const lv = o.lines;
      if (lv === undefined || lv === null) return 'missing field "lines"';
      if (!Array.isArray(lv)) return 'field "lines" must be a list';
      if (lv.length === 0) return 'field "lines" is empty';
      const lines: HwOrderLine[] = new Array(lv.length);
      for (let i = 0; i < lv.length; i++) {
        const l = lv[i] as Record<string, unknown>;
        if (typeof l !== 'object' || l === null || Array.isArray(l)) return `line ${i + 1} of "lines" must be an object`;
        const { sku, category, qty, price } = l;
        if (typeof sku !== 'string') return `field "sku" in line ${i + 1} of "lines" ${sku == null ? 'is missing' : 'must be a string'}`;
        if (typeof category !== 'string') return `field "category" in line ${i + 1} of "lines" ${category == null ? 'is missing' : 'must be a string'}`;
        if (!isPosInt(qty)) return `field "qty" in line ${i + 1} of "lines" must be a positive integer`;
        const cents = typeof price === 'string' ? parseMoney(price) : -1;
        if (cents < 0) return `field "price" in line ${i + 1} of "lines" must be a decimal string such as "4.50"`;
        lines[i] = { sku, category, qty, price: cents };
      }
      const ch = o.channel;
      if (ch !== undefined && ch !== null && typeof ch !== 'string') return 'field "channel" must be a string';
      return { type, at, member, id, lines, channel: (ch as string | null | undefined) ?? null };
    }
    case 'signup': {
      const b = o.birthday;
      if (b !== undefined && b !== null && (typeof b !== 'string' || !isDate(b))) return 'field "birthday" must be a date such as "1990-04-17"';
      const r = o.referrer;
      if (r !== undefined && r !== null && typeof r !== 'string') return 'field "referrer" must be a string';
      return { type, at, member, birthday: (b as string | null | undefined) ?? null, referrer: (r as string | null | undefined) ?? null };
    }
    case 'refund': {
      const order = o.order;
      if (order === undefined || order === null) return 'missing field "order"';
      if (typeof order !== 'string') return 'field "order" must be a string';
      const lv = o.lines;
      if (lv === undefined || lv === null) return 'missing field "lines"';
      if (!Array.isArray(lv)) return 'field "lines" must be a list';
      if (lv.length === 0) return 'field "lines" is empty';
      const lines: { sku: string; qty: number }[] = new Array(lv.length);
      for (let i = 0; i < lv.length; i++) {
        const l = lv[i] as Record<string, unknown>;
        if (typeof l !== 'object' || l === null || Array.isArray(l)) return `line ${i + 1} of "lines" must be an object`;
        if (typeof l.sku !== 'string') return `field "sku" in line ${i + 1} of "lines" must be a string`;
        if (!isPosInt(l.qty)) return `field "qty" in line ${i + 1} of "lines" must be a positive integer`;
        lines[i] = { sku: l.sku, qty: l.qty };
      }
      return { type, at, member, order, lines };
    }
    case 'redeem': {
      if (o.points === undefined || o.points === null) return 'missing field "points"';
      if (!isPosInt(o.points)) return 'field "points" must be a positive integer';
      const t = o.order_total;
      let orderTotal: number | null = null;
      if (t !== undefined && t !== null) {
        orderTotal = typeof t === 'string' ? parseMoney(t) : -1;
        if (orderTotal < 0) return 'field "order_total" must be a decimal string such as "4.50"';
      }
      return { type, at, member, points: o.points, orderTotal };
    }
    case 'join_club':
    case 'cancel_club': {
      const club = o.club;
      if (club === undefined || club === null) return 'missing field "club"';
      if (typeof club !== 'string') return 'field "club" must be a string';
      return { type, at, member, club };
    }
    case 'event': {
      const name = o.name;
      if (name === undefined || name === null) return 'missing field "name"';
      if (typeof name !== 'string') return 'field "name" must be a string';
      return { type, at, member, name };
    }
    case 'adjust': {
      const p = o.points;
      if (p === undefined || p === null) return 'missing field "points"';
      if (typeof p !== 'number' || !Number.isSafeInteger(p) || p === 0) return 'field "points" must be a non-zero integer';
      const reason = o.reason;
      if (reason !== undefined && reason !== null && typeof reason !== 'string') return 'field "reason" must be a string';
      return { type, at, member, points: p, reason: (reason as string | null | undefined) ?? null };
    }
    case 'redeem_reward': {
      const reward = o.reward;
      if (reward === undefined || reward === null) return 'missing field "reward"';
      if (typeof reward !== 'string') return 'field "reward" must be a string';
      return { type, at, member, reward };
    }
  }
  return `unknown event type ${q(type)}`;
}

/** Parses one JSONL line; null for a blank line. */
export function parseLine(text: string): HwEvent | string | null {
  let blank = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13 && c !== 10) {
      blank = false;
      break;
    }
  }
  if (blank) return null;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return `not valid JSON: ${(e as Error).message}`;
  }
  return parseEventValue(v);
}

// ---------------------------------------------------------------- the program's constants

const zone = new Zone('America/New_York');

const CLUB = 'Bean Club';
const TIER_NAMES = ['Green', 'Silver', 'Gold'];
/** Spend is kept in 1/720720 of a cent so that refunds of qty 1..16 (and many more) stay exact. */
const S = 720720;
const SILVER = 25_000 * S;
const GOLD = 75_000 * S;
const LULL_FROM = 14 * HOUR;
const LULL_TO = 17 * HOUR;

// Ledger entry codes: kind and rule in one small integer.
const C_BASE = 0;
const C_PASTRY = 1;
const C_LULL = 2;
const C_COFFEE = 3;
const C_BEANS = 4;
const C_APP = 5;
const C_TIER_SILVER = 6;
const C_TIER_GOLD = 7;
const C_CLUB = 8;
const C_CLUB_JOIN = 9;
const C_REFEREE = 10;
const C_REFERRER = 11;
const C_SIGNUP = 12;
const C_BIRTHDAY = 13;
const C_SURVEY = 14;
const C_REDEEM = 15;
const C_EXPIRE = 16;
const C_REVERSE = 17;
const C_ADJUST = 18;
const C_REWARD = 19;
const C_CHALLENGE = 20;
const CODE_RULE: (string | null)[] = [
  'base',
  'Pastry pairing',
  'Afternoon lull',
  'First coffee of the day',
  'Weekend beans',
  'App order',
  'tier:Silver',
  'tier:Gold',
  'club:Bean Club',
  'club:Bean Club:join',
  'referral:referee',
  'referral:referrer',
  'signup',
  'birthday',
  'event:survey',
  null,
  null,
  null,
  null,
  'reward:Free drink',
  'challenge:Three visits a week',
];
type Kind = LedgerEntryJson['kind'];
const CODE_KIND: Kind[] = CODE_RULE.map((_, c) => (c === C_REDEEM || c === C_REWARD ? 'redeem' : c === C_EXPIRE ? 'expire' : c === C_REVERSE ? 'reverse' : c === C_ADJUST ? 'adjust' : 'earn'));
const CODE_JSON = CODE_RULE.map((r, c) => `", "kind": "${CODE_KIND[c]}", "points": `);
const CODE_RULE_JSON = CODE_RULE.map((r) => `, "rule": ${r === null ? 'null' : JSON.stringify(r)}, "ref": `);
const TIER_CODE = [-1, C_TIER_SILVER, C_TIER_GOLD];

/**
 * All ledger entries of a replay in flat typed arrays, in the order written,
 * each with its member's index (no object per entry). `byMember` groups them
 * per member for the result.
 */
class Ledger {
  n = 0;
  at: Float64Array;
  pts: Int32Array;
  code: Uint8Array;
  mem: Int32Array;
  /** The order an entry refers to (index in Orders), -1 for none. */
  ref: Int32Array;

  constructor(capacity: number) {
    this.at = new Float64Array(capacity);
    this.pts = new Int32Array(capacity);
    this.code = new Uint8Array(capacity);
    this.mem = new Int32Array(capacity);
    this.ref = new Int32Array(capacity);
  }
  /** Each member's next due time, by member index: the tick loop reads this, not the scattered member objects. */
  due = new Float64Array(1 << 10);

  setDue(idx: number, due: number): void {
    if (idx >= this.due.length) this.due = grown(this.due, new Float64Array(Math.max(idx + 1, this.due.length * 2)));
    this.due[idx] = due;
  }

  add(m: Member, at: number, code: number, pts: number, ref: number): void {
    const i = this.n;
    if (i === this.at.length) this.grow();
    this.at[i] = at;
    this.pts[i] = pts;
    this.code[i] = code;
    this.mem[i] = m.idx;
    this.ref[i] = ref;
    this.n = i + 1;
  }

  /** Entry indices grouped by member (stable), and where each member's group starts. */
  byMember(members: number): { order: Int32Array; start: Int32Array } {
    const start = new Int32Array(members + 1);
    const mem = this.mem;
    const n = this.n;
    for (let i = 0; i < n; i++) start[mem[i]! + 1]!++;
    for (let k = 0; k < members; k++) start[k + 1]! += start[k]!;
    const fill = start.slice(0, members);
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[fill[mem[i]!]!++] = i;
    return { order, start };
  }

  private grow(): void {
    const cap = this.at.length * 2;
    this.at = grown(this.at, new Float64Array(cap));
    this.pts = grown(this.pts, new Int32Array(cap));
    this.code = grown(this.code, new Uint8Array(cap));
    this.mem = grown(this.mem, new Int32Array(cap));
    this.ref = grown(this.ref, new Int32Array(cap));
  }
}

class Member {
  balance = 0;
  // Lots: expiry instant and remaining points; [lotHead, length) are all > 0.
  lotExp: number[] = [];
  lotPts: number[] = [];
  lotHead = 0;
  // Spend window (eligible paid of each order, in S units, dated at the order).
  spLeave: number[] = [];
  spAmount: number[] = [];
  spHead = 0;
  spSum = 0;
  tier = 0;
  graceEnd = Infinity; // Infinity when not in grace
  nextBirthday = Infinity;
  birthdayYear = 0;
  /** Earliest time at which advance() has anything to do. */
  nextDue = Infinity;
  orders = 0;
  // Limits: the current period and what was used in it.
  pastryDay = -1;
  pastryPts = 0;
  coffeeDay = -1;
  beansWeek = -1;
  beansPts = 0;
  appWeek = -1;
  appCount = 0;
  surveyMonth = -1;
  // The one declared club.
  clubStart = Infinity;
  clubEnd = -Infinity;
  clubEver = false;
  // As a referrer: rewards in the current calendar year.
  refYear = -1;
  refCount = 0;
  // v2: contributions not yet written (pending 14 days), in the order they
  // were computed: vesting instant, entry code, points, order index; from pHead.
  pVest: number[] = [];
  pCode: number[] = [];
  pPts: number[] = [];
  pRef: number[] = [];
  pHead = 0;
  // v2: "Three visits a week" (counting orders in the current week) and the
  // month of the last "Free drink".
  challengeWeek = -1;
  challengeCount = 0;
  rewardMonth = -1;
  constructor(
    readonly L: Ledger,
    readonly idx: number, // order of signup
    readonly id: string,
    readonly signupAt: number,
    readonly bMonth: number, // 0 when no birthday
    readonly bDay: number,
    readonly referrer: Member | null,
    readonly referralUntil: number,
  ) {}
}

/**
 * Accepted orders, kept for refunds, in flat arrays indexed by acceptance
 * order; their lines in flat arrays too (sku strings from JSON.parse are
 * internalized, so keeping them costs nothing).
 */
class Orders {
  index = new Map<string, number>();
  ids: string[] = [];
  n = 0;
  member: Int32Array; // member index
  paid: Float64Array; // P: eligible paid cents
  earned: Int32Array; // E: earn entries other than referral
  reversed: Int32Array;
  spendIdx: Int32Array; // index in the member's spend window, -1 for none
  /** v2: when the order's points vest (0 without pending: always vested). */
  vest: Float64Array;
  lineStart: Int32Array;
  // Lines
  nl = 0;
  skuIndex = new Map<string, number>(); // sku → small integer
  sku: Int32Array;
  qty: Int32Array;
  linePaid: Float64Array; // after the club discount; -1 for an excluded line
  refunded: Int32Array;

  constructor(orders: number, lines: number) {
    this.member = new Int32Array(orders);
    this.paid = new Float64Array(orders);
    this.earned = new Int32Array(orders);
    this.reversed = new Int32Array(orders);
    this.spendIdx = new Int32Array(orders);
    this.vest = new Float64Array(orders);
    this.lineStart = new Int32Array(orders + 1);
    this.sku = new Int32Array(lines);
    this.qty = new Int32Array(lines);
    this.linePaid = new Float64Array(lines);
    this.refunded = new Int32Array(lines);
  }

  /** Adds the order whose lines were just added; its index is the `n` before the call. */
  add(id: string, m: Member, paid: number, earned: number, spendIdx: number, vest: number): void {
    const i = this.n;
    if (i + 1 >= this.paid.length) this.grow();
    this.index.set(id, i);
    this.ids.push(id);
    this.member[i] = m.idx;
    this.paid[i] = paid;
    this.earned[i] = earned;
    this.spendIdx[i] = spendIdx;
    this.vest[i] = vest;
    this.lineStart[i + 1] = this.nl;
    this.n = i + 1;
  }

  /** Lines are added before their order. */
  addLine(sku: string, qty: number, paid: number): void {
    const j = this.nl;
    if (j === this.qty.length) this.growLines();
    let k = this.skuIndex.get(sku);
    if (k === undefined) this.skuIndex.set(sku, (k = this.skuIndex.size));
    this.sku[j] = k;
    this.qty[j] = qty;
    this.linePaid[j] = paid;
    this.nl = j + 1;
  }

  private grow(): void {
    const cap = this.paid.length * 2;
    this.member = grown(this.member, new Int32Array(cap));
    this.paid = grown(this.paid, new Float64Array(cap));
    this.earned = grown(this.earned, new Int32Array(cap));
    this.reversed = grown(this.reversed, new Int32Array(cap));
    this.spendIdx = grown(this.spendIdx, new Int32Array(cap));
    this.vest = grown(this.vest, new Float64Array(cap));
    this.lineStart = grown(this.lineStart, new Int32Array(cap + 1));
  }

  private growLines(): void {
    const cap = this.qty.length * 2;
    this.sku = grown(this.sku, new Int32Array(cap));
    this.qty = grown(this.qty, new Int32Array(cap));
    this.linePaid = grown(this.linePaid, new Float64Array(cap));
    this.refunded = grown(this.refunded, new Int32Array(cap));
  }
}

function grown<T extends Float64Array | Int32Array | Uint8Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

// Cache: the local day of the last `plus12Months` and the local day 12 months on.
let expCacheDay = NaN;
let expCacheLocalDay = 0;

/** `at` + 12 months on the New York wall clock (day clamped: 29 Feb → 28 Feb). */
function plus12Months(at: number): number {
  const local = zone.toLocal(at);
  const day = Math.floor(local / DAY);
  if (day !== expCacheDay) {
    const c = civilFromDays(day);
    const y = Math.floor(c / 10000) + 1;
    const m = Math.floor(c / 100) % 100;
    const d = Math.min(c % 100, daysInMonth(y, m));
    expCacheDay = day;
    expCacheLocalDay = daysFromCivil(y, m, d);
  }
  return zone.toUtc(expCacheLocalDay * DAY + (local - day * DAY));
}

function localYear(at: number): number {
  return Math.floor(civilFromDays(Math.floor(zone.toLocal(at) / DAY)) / 10000);
}

/** 00:00 New York time on the member's birthday in `year` (29 Feb → 28 Feb). */
function birthdayIn(m: Member, year: number): number {
  const d = m.bMonth === 2 && m.bDay === 29 && !isLeap(year) ? 28 : m.bDay;
  return zone.toUtc(daysFromCivil(year, m.bMonth, d) * DAY);
}

// ---------------------------------------------------------------- member state changes

/** An `earn` entry; a lot of what is left after covering a negative balance. */
/** `ref`: the order's index in Orders, or -1. */
function earn(m: Member, at: number, code: number, points: number, ref: number, exp: number): void {
  m.L.add(m, at, code, points, ref);
  const before = m.balance;
  const after = before + points;
  m.balance = after;
  const lot = before >= 0 ? points : after > 0 ? after : 0;
  if (lot > 0) {
    const n = m.lotExp.length;
    if (n > m.lotHead && m.lotExp[n - 1] === exp) m.lotPts[n - 1]! += lot;
    else {
      m.lotExp.push(exp);
      m.lotPts.push(lot);
    }
  }
}

/** An order's contribution: written now (`vest` 0), or pending until `vest` (dsl.md 4.9). */
function credit(m: Member, at: number, code: number, points: number, ref: number, exp: number, vest: number): void {
  if (vest === 0) {
    earn(m, at, code, points, ref, exp);
    return;
  }
  m.pVest.push(vest);
  m.pCode.push(code);
  m.pPts.push(points);
  m.pRef.push(ref);
}

/** Points computed and not yet written (replay.md `pending`). */
function pendingOf(m: Member): number {
  let sum = 0;
  for (let h = m.pHead; h < m.pPts.length; h++) sum += m.pPts[h]!;
  return sum;
}

/** Writes the contributions vesting at `v`, each dated then (a lot from `v`), skipping those refunded to 0. */
function vestAt(m: Member, v: number): void {
  const vest = m.pVest;
  const n = vest.length;
  let h = m.pHead;
  const exp = plus12Months(v);
  while (h < n && vest[h] === v) {
    const p = m.pPts[h]!;
    if (p > 0) earn(m, v, m.pCode[h]!, p, m.pRef[h]!, exp);
    h++;
  }
  m.pHead = h;
  if (h > 64 && h * 2 > n) {
    m.pVest = vest.slice(h);
    m.pCode = m.pCode.slice(h);
    m.pPts = m.pPts.slice(h);
    m.pRef = m.pRef.slice(h);
    m.pHead = 0;
  }
}

/** Takes points from the oldest lots (redeem, reverse). */
function consume(m: Member, points: number): void {
  const exp = m.lotExp;
  const pts = m.lotPts;
  let h = m.lotHead;
  const n = exp.length;
  while (points > 0 && h < n) {
    const p = pts[h]!;
    if (p > points) {
      pts[h] = p - points;
      points = 0;
    } else {
      points -= p;
      pts[h] = 0;
      h++;
    }
  }
  m.lotHead = h;
  if (h > 64 && h * 2 > n) {
    m.lotExp = exp.slice(h);
    m.lotPts = pts.slice(h);
    m.lotHead = 0;
  }
}

function refreshDue(m: Member): void {
  let due = m.nextBirthday;
  if (m.lotHead < m.lotExp.length) {
    const e = m.lotExp[m.lotHead]!;
    if (e < due) due = e;
  }
  if (m.spHead < m.spLeave.length) {
    const l = m.spLeave[m.spHead]!;
    if (l < due) due = l;
  }
  if (m.graceEnd < due) due = m.graceEnd;
  if (m.pHead < m.pVest.length) {
    const v = m.pVest[m.pHead]!;
    if (v < due) due = v;
  }
  m.nextDue = due;
  m.L.setDue(m.idx, due);
}

/** Tier evaluation at `t` (dsl.md 4.5): spend over 12 months, keep 30 days. */
function evalTier(m: Member, t: number): void {
  const leave = m.spLeave;
  let h = m.spHead;
  if (h < leave.length && leave[h]! <= t) {
    let sum = m.spSum;
    do {
      sum -= m.spAmount[h]!;
      h++;
    } while (h < leave.length && leave[h]! <= t);
    m.spSum = sum;
    m.spHead = h;
  }
  const sum = m.spSum;
  const computed = sum >= GOLD ? 2 : sum >= SILVER ? 1 : 0;
  if (computed >= m.tier) {
    m.tier = computed;
    m.graceEnd = Infinity;
  } else if (m.graceEnd === Infinity) {
    m.graceEnd = zone.addDays(t, 30);
  } else if (t >= m.graceEnd) {
    m.tier = computed;
    m.graceEnd = Infinity;
  }
}

/** Brings a member to `t` (dsl.md 4.1): expiries, vesting and birthdays in date order (on one instant in that order), then the tier. */
function advance(m: Member, t: number): void {
  for (;;) {
    const e = m.lotHead < m.lotExp.length ? m.lotExp[m.lotHead]! : Infinity;
    const v = m.pHead < m.pVest.length ? m.pVest[m.pHead]! : Infinity;
    const b = m.nextBirthday;
    if (v < e && v <= b) {
      if (v > t) break;
      vestAt(m, v);
    } else if (e <= b) {
      if (e > t) break;
      let sum = 0;
      let h = m.lotHead;
      const exp = m.lotExp;
      const n = exp.length;
      while (h < n && exp[h] === e) {
        sum += m.lotPts[h]!;
        m.lotPts[h] = 0;
        h++;
      }
      m.lotHead = h;
      m.L.add(m, e, C_EXPIRE, -sum, -1);
      m.balance -= sum;
    } else {
      if (b > t) break;
      earn(m, b, C_BIRTHDAY, 500, -1, plus12Months(b));
      m.birthdayYear++;
      m.nextBirthday = birthdayIn(m, m.birthdayYear);
    }
  }
  evalTier(m, t);
  refreshDue(m);
}

// ---------------------------------------------------------------- the replay

export interface ReplayOptions {
  /** Replay bench/coffee-chain-v2.loyalty instead of examples/coffee-chain.loyalty. */
  v2?: boolean;
}

export class CoffeeReplay {
  private members = new Map<string, Member>();
  private list: Member[] = [];
  private orders: Orders;
  private L: Ledger;

  /** `v2`: the program is bench/coffee-chain-v2.loyalty (the header of this file). */
  readonly v2: boolean;

  /** `expectedEvents` only sizes the arrays up front (they grow anyway). */
  constructor(expectedEvents = 1 << 14, options: ReplayOptions = {}) {
    this.v2 = options.v2 ?? false;
    const n = Math.max(1024, Math.min(expectedEvents, 1 << 26));
    this.orders = new Orders(n, n * 3);
    this.L = new Ledger(n * 3);
  }
  private lastTime = -Infinity;
  private lastAccepted = -Infinity;
  readonly errors: { line: number; message: string }[] = [];

  error(line: number, message: string): void {
    this.errors.push({ line, message });
  }

  /** One JSONL line (validated, then applied). */
  pushLine(text: string, line: number): void {
    const ev = parseLine(text);
    if (ev === null) return;
    if (typeof ev === 'string') this.error(line, ev);
    else this.push(ev, line);
  }

  /** One well-formed event. */
  push(ev: HwEvent, line: number): void {
    const t = ev.at;
    if (t < this.lastTime) {
      this.error(line, `event at ${formatInstant(t)} is earlier than the last event not rejected (${formatInstant(this.lastTime)})`);
      return;
    }
    this.lastTime = t;
    if (ev.type === 'tick') {
      const list = this.list;
      const due = this.L.due;
      for (let i = 0; i < list.length; i++) if (t >= due[i]!) advance(list[i]!, t);
      this.lastAccepted = t;
      return;
    }
    const m = this.members.get(ev.member);
    if (ev.type === 'signup') {
      if (m !== undefined) {
        if (t >= m.nextDue) advance(m, t);
        this.error(line, `member ${q(ev.member)} already signed up`);
        return;
      }
      this.signup(ev, line);
      return;
    }
    if (m === undefined) {
      this.error(line, `unknown member ${q(ev.member)}`);
      return;
    }
    if (t >= m.nextDue) advance(m, t);
    let err: string | null;
    switch (ev.type) {
      case 'order':
        err = this.order(m, ev);
        break;
      case 'refund':
        err = this.refund(m, ev);
        break;
      case 'redeem':
        err = redeem(m, ev.points, ev.orderTotal ?? null, t);
        break;
      case 'join_club':
        err = joinClub(m, ev.club, t);
        break;
      case 'cancel_club':
        err = cancelClub(m, ev.club, t);
        break;
      case 'event':
        err = namedEvent(m, ev.name, t);
        break;
      case 'adjust':
        err = adjust(m, ev.points, t);
        break;
      case 'redeem_reward':
        // Only v2 has a rewards catalog (dsl.md 4.10).
        err = this.v2 ? redeemReward(m, ev.reward, t) : `unknown reward ${q(ev.reward)}`;
        break;
    }
    if (err === null) this.lastAccepted = t;
    else this.error(line, err);
  }

  private signup(ev: Extract<HwEvent, { type: 'signup' }>, line: number): void {
    const t = ev.at;
    let referrer: Member | null = null;
    if (ev.referrer != null) {
      if (ev.referrer === ev.member) {
        this.error(line, `member ${q(ev.member)} cannot refer itself`);
        return;
      }
      referrer = this.members.get(ev.referrer) ?? null;
      if (referrer === null) {
        this.error(line, `unknown referrer ${q(ev.referrer)}`);
        return;
      }
    }
    let bm = 0;
    let bd = 0;
    if (ev.birthday != null) {
      bm = d2(ev.birthday, 5);
      bd = d2(ev.birthday, 8);
    }
    const m = new Member(this.L, this.list.length, ev.member, t, bm, bd, referrer, referrer ? zone.addDays(t, 30) : -Infinity);
    if (bm !== 0) {
      // Only birthdays after signup: one due at 00:00 of the signup day is before it.
      let y = localYear(t);
      let due = birthdayIn(m, y);
      if (due <= t) due = birthdayIn(m, ++y);
      m.birthdayYear = y;
      m.nextBirthday = due;
    }
    this.members.set(ev.member, m);
    this.list.push(m);
    earn(m, t, C_SIGNUP, 100, -1, plus12Months(t));
    refreshDue(m);
    this.lastAccepted = t;
  }

  private order(m: Member, ev: Extract<HwEvent, { type: 'order' }>): string | null {
    const id = ev.id;
    const orders = this.orders;
    if (orders.index.has(id)) return `duplicate order id ${q(id)}`;
    const oi = orders.n; // this order's index, the `ref` of its entries
    const t = ev.at;
    const club = m.clubStart <= t && t < m.clubEnd;
    // v2: the tier's discounts (the tier at the start of the order), and when the points vest.
    const v2 = this.v2;
    const tier = v2 ? m.tier : 0;
    const beansPct = tier === 2 ? 20 : club ? 15 : 0;
    const vest = v2 ? zone.addDays(t, 14) : 0;
    const lines = ev.lines;
    // Step 1-3: amounts, club discount, eligible lines; what each rule's filter sees.
    let elig = 0;
    let anyElig = false;
    let pastry = -1;
    let coffee = false;
    let beansQty = 0;
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i]!;
      const cat = l.category;
      if (cat === 'gift-card' || cat === 'tax') {
        orders.addLine(l.sku, l.qty, -1);
        continue;
      }
      let paid = l.qty * l.price;
      anyElig = true;
      if (cat === 'pastry') {
        if (tier !== 0) paid -= Math.floor(paid / 10); // 10%
        pastry = pastry < 0 ? paid : pastry + paid;
      } else if (cat === 'espresso' || cat === 'brewed') {
        coffee = true;
      } else if (cat === 'whole-beans') {
        if (beansPct !== 0) paid -= Math.floor((paid * beansPct) / 100);
        beansQty += l.qty;
      }
      orders.addLine(l.sku, l.qty, paid);
      elig += paid;
    }
    let earned = 0;
    let exp = 0;
    let week = 0;
    if (anyElig) {
      exp = plus12Months(t);
      // Step 4: base 10 points per 1 USD = paid cents / 10.
      const base = Math.floor(elig / 10);
      if (base > 0) {
        credit(m, t, C_BASE, base, oi, exp, vest);
        earned += base;
      }
      // Step 5: the rules, in source order.
      const local = zone.toLocal(t);
      const day = Math.floor(local / DAY);
      const tod = local - day * DAY;
      const wd = (day + 3) % 7; // Monday 0 … Sunday 6
      week = Math.floor((day + 3) / 7); // weeks from Monday
      if (pastry >= 0) {
        // multiplier 2x: (2 − 1) × base of the pastry lines; limit 100 points per day
        if (m.pastryDay !== day) {
          m.pastryDay = day;
          m.pastryPts = 0;
        }
        const c = Math.min(Math.floor(pastry / 10), 100 - m.pastryPts);
        if (c > 0) {
          credit(m, t, C_PASTRY, c, oi, exp, vest);
          m.pastryPts += c;
          earned += c;
        }
      }
      if (wd < 5 && tod >= LULL_FROM && tod < LULL_TO) {
        // extra 5 points per 1 USD on every eligible line
        const c = Math.floor((elig * 5) / 100);
        if (c > 0) {
          credit(m, t, C_LULL, c, oi, exp, vest);
          earned += c;
        }
      }
      if (coffee && m.coffeeDay !== day) {
        // bonus 15, once per day
        credit(m, t, C_COFFEE, 15, oi, exp, vest);
        m.coffeeDay = day;
        earned += 15;
      }
      if (beansQty > 0 && wd >= 5) {
        // 50 points per item, limit 200 points per (Monday-started) week
        if (m.beansWeek !== week) {
          m.beansWeek = week;
          m.beansPts = 0;
        }
        const c = Math.min(50 * beansQty, 200 - m.beansPts);
        if (c > 0) {
          credit(m, t, C_BEANS, c, oi, exp, vest);
          m.beansPts += c;
          earned += c;
        }
      }
      if (ev.channel === 'app' && elig >= 1000) {
        // bonus 25, limit 3 times per week
        if (m.appWeek !== week) {
          m.appWeek = week;
          m.appCount = 0;
        }
        if (m.appCount < 3) {
          credit(m, t, C_APP, 25, oi, exp, vest);
          m.appCount++;
          earned += 25;
        }
      }
      // Step 6: the tier at the start of the order, on the integer base.
      if (m.tier !== 0) {
        const c = m.tier === 1 ? Math.floor(base / 4) : Math.floor(base / 2);
        if (c > 0) {
          credit(m, t, TIER_CODE[m.tier]!, c, oi, exp, vest);
          earned += c;
        }
      }
      // Step 7: club 2x.
      if (club && base > 0) {
        credit(m, t, C_CLUB, base, oi, exp, vest);
        earned += base;
      }
    }
    // Step 8: referral, on the referee's first order.
    const r = m.referrer;
    if (r !== null && m.orders === 0 && elig >= 1000 && t <= m.referralUntil) {
      credit(m, t, C_REFEREE, 150, oi, exp, vest);
      const year = localYear(t);
      if (r.refYear !== year) {
        r.refYear = year;
        r.refCount = 0;
      }
      if (r.refCount < 10) {
        if (t >= r.nextDue) advance(r, t);
        credit(r, t, C_REFERRER, 300, oi, exp, vest);
        r.refCount++;
        refreshDue(r);
      }
    }
    // Step 8a (v2): "Three visits a week", on the 3rd order with an eligible line of the week.
    if (v2 && anyElig) {
      if (m.challengeWeek !== week) {
        m.challengeWeek = week;
        m.challengeCount = 0;
      }
      if (++m.challengeCount === 3) credit(m, t, C_CHALLENGE, 100, oi, exp, vest);
    }
    // Step 10: tier progress.
    m.orders++;
    let spendIdx = -1;
    if (elig > 0) {
      spendIdx = m.spLeave.length;
      m.spLeave.push(exp);
      m.spAmount.push(elig * S);
      m.spSum += elig * S;
    }
    orders.add(id, m, elig, earned, spendIdx, vest);
    evalTier(m, t);
    refreshDue(m);
    return null;
  }

  private refund(m: Member, ev: Extract<HwEvent, { type: 'refund' }>): string | null {
    const orders = this.orders;
    const o = orders.index.get(ev.order);
    if (o === undefined || orders.member[o] !== m.idx) return `unknown order ${q(ev.order)} for member ${q(m.id)}`;
    const from = orders.lineStart[o]!;
    const to = orders.lineStart[o + 1]!;
    const skus = orders.sku;
    const qty = orders.qty;
    const refunded = orders.refunded;
    const take = new Array<number>(to - from);
    for (let j = from; j < to; j++) take[j - from] = refunded[j]!;
    // A sku's quantity comes from the order's lines of that sku, earlier lines first.
    for (const rl of ev.lines) {
      let want = rl.qty;
      let found = false;
      const sku = orders.skuIndex.get(rl.sku) ?? -1;
      for (let j = from; j < to && want > 0; j++) {
        if (skus[j] !== sku) continue;
        found = true;
        const k = Math.min(want, qty[j]! - take[j - from]!);
        take[j - from]! += k;
        want -= k;
      }
      if (!found) return `sku ${q(rl.sku)} is not on order ${q(ev.order)}`;
      if (want > 0) return `refund of ${rl.qty} × ${q(rl.sku)} exceeds what is left on order ${q(ev.order)}`;
    }
    // R before and after, exactly, as numerators over den = lcm(qty of the eligible lines involved).
    const paidOf = orders.linePaid;
    let den = 1;
    for (let j = from; j < to; j++) if (take[j - from] !== 0 && paidOf[j]! >= 0) den = lcm(den, qty[j]!);
    let before = 0;
    let after = 0;
    let beforeS = 0;
    let afterS = 0;
    for (let j = from; j < to; j++) {
      const paid = paidOf[j]!;
      const k = take[j - from]!;
      if (k === 0 || paid < 0) continue;
      const done = refunded[j]!;
      const qj = qty[j]!;
      before += paid * done * (den / qj);
      after += paid * k * (den / qj);
      beforeS += Math.floor((paid * done * S) / qj);
      afterS += Math.floor((paid * k * S) / qj);
    }
    for (let j = from; j < to; j++) refunded[j] = take[j - from]!;
    const t = ev.at;
    if (after !== before) {
      const P = orders.paid[o]!;
      if (P > 0) {
        // −(floor(E × R / P) − already reversed)
        const target = floorMulDiv(orders.earned[o]!, after, P * den);
        const x = target - orders.reversed[o]!;
        if (x > 0) {
          if (orders.vest[o]! > t) reducePending(m, o, x);
          else {
            this.L.add(m, t, C_REVERSE, -x, o);
            m.balance -= x;
            consume(m, x);
          }
          orders.reversed[o] = target;
        }
      }
      // The refunded eligible amount leaves the spend of the original order.
      const si = orders.spendIdx[o]!;
      if (si >= 0) {
        const d = afterS - beforeS;
        m.spAmount[si]! -= d;
        if (si >= m.spHead) m.spSum -= d;
      }
    }
    evalTier(m, t);
    refreshDue(m);
    return null;
  }

  private clubsAtEnd(m: Member): boolean {
    const T = this.lastAccepted;
    return m.clubStart <= T && T < m.clubEnd;
  }

  /** The replay.md result as a plain object. */
  result(): ReplayResultJson {
    const members: ReplayResultJson['members'] = {};
    const L = this.L;
    const { order, start } = L.byMember(this.list.length);
    for (const m of this.list) {
      const ledger: LedgerEntryJson[] = [];
      for (let j = start[m.idx]!; j < start[m.idx + 1]!; j++) {
        const i = order[j]!;
        const c = L.code[i]!;
        ledger.push({ at: formatInstant(L.at[i]!), kind: CODE_KIND[c]!, points: L.pts[i]!, rule: CODE_RULE[c]!, ref: L.ref[i]! < 0 ? null : this.orders.ids[L.ref[i]!]! });
      }
      const clubs = this.clubsAtEnd(m) ? [CLUB] : [];
      members[m.id] = this.v2 ? { balance: m.balance, pending: pendingOf(m), tier: TIER_NAMES[m.tier]!, clubs, ledger } : { balance: m.balance, tier: TIER_NAMES[m.tier]!, clubs, ledger };
    }
    return { members, errors: this.errors.slice() };
  }

  /** Number of ledger entries written. */
  get entryCount(): number {
    return this.L.n;
  }

  /**
   * Writes the result as JSON in the layout of the conformance files (one
   * ledger entry a line), as bytes in chunks of about `chunkBytes`; the chunk
   * buffer is reused after `sink` returns.
   */
  writeJson(sink: (chunk: Uint8Array) => void, chunkBytes = 1 << 22): void {
    const w = new ByteWriter(sink, chunkBytes);
    const L = this.L;
    const { order, start } = L.byMember(this.list.length);
    const codes = L.code;
    const ats = L.at;
    const pts = L.pts;
    const refs = L.ref;
    const ids = this.orders.ids;
    w.bytes(B_HEAD);
    const list = this.list;
    const atBuf = new Uint8Array(20);
    let at = atBuf;
    let lastAt = NaN;
    for (let k = 0; k < list.length; k++) {
      const m = list[k]!;
      w.bytes(k === 0 ? B_MEMBER_FIRST : B_MEMBER_NEXT);
      w.jsonString(m.id);
      w.bytes(B_BALANCE);
      w.int(m.balance);
      if (this.v2) {
        w.bytes(B_PENDING);
        w.int(pendingOf(m));
      }
      w.bytes(B_TIER[m.tier]!);
      w.bytes(this.clubsAtEnd(m) ? B_CLUBS_BEAN : B_CLUBS_NONE);
      let first = true;
      for (let j = start[k]!, end = start[k + 1]!; j < end; j++) {
        const i = order[j]!;
        const c = codes[i]!;
        const t = ats[i]!;
        if (t !== lastAt) {
          lastAt = t;
          if (t % 1000 === 0 && t >= 0 && t < 253402300800000) instantBytes(t, (at = atBuf));
          else at = ascii(formatInstant(t)); // fractions of a second, unusual years
        }
        w.bytes(first ? B_ENTRY_FIRST : B_ENTRY_NEXT);
        w.bytes(at);
        w.bytes(B_CODE[c]!);
        w.int(pts[i]!);
        w.bytes(B_CODE_RULE[c]!);
        const ref = refs[i]!;
        if (ref < 0) w.bytes(B_NULL_CLOSE);
        else {
          w.jsonString(ids[ref]!);
          w.byte(125);
        }
        first = false;
      }
      w.bytes(first ? B_LEDGER_EMPTY_END : B_LEDGER_END);
    }
    w.bytes(list.length === 0 ? B_ERRORS_AFTER_NONE : B_ERRORS);
    const errors = this.errors;
    for (let i = 0; i < errors.length; i++) {
      const e = errors[i]!;
      w.bytes(i === 0 ? B_ERROR_FIRST : B_ERROR_NEXT);
      w.int(e.line);
      w.bytes(B_MESSAGE);
      w.jsonString(e.message);
      w.byte(125);
    }
    w.bytes(errors.length === 0 ? B_END_NO_ERRORS : B_END);
    w.flush();
  }

  /** The JSON text of writeJson as one string (small results, tests). */
  toJson(): string {
    const parts: Buffer[] = [];
    this.writeJson((c) => parts.push(Buffer.from(c)));
    return Buffer.concat(parts).toString('utf8');
  }
}

// The fixed parts of the result JSON, as bytes.
const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const B_HEAD = ascii('{\n  "members": {');
const B_MEMBER_FIRST = ascii('\n    ');
const B_MEMBER_NEXT = ascii(',\n    ');
const B_BALANCE = ascii(': {\n      "balance": ');
const B_PENDING = ascii(',\n      "pending": ');
const B_TIER = TIER_NAMES.map((t) => ascii(`,\n      "tier": "${t}",\n      "clubs": [`));
const B_CLUBS_BEAN = ascii('"Bean Club"],\n      "ledger": [');
const B_CLUBS_NONE = ascii('],\n      "ledger": [');
const B_ENTRY_FIRST = ascii('\n        {"at": "');
const B_ENTRY_NEXT = ascii(',\n        {"at": "');
const B_CODE = CODE_JSON.map(ascii);
const B_CODE_RULE = CODE_RULE_JSON.map(ascii);
const B_NULL_CLOSE = ascii('null}');
const B_LEDGER_END = ascii('\n      ]\n    }');
const B_LEDGER_EMPTY_END = ascii(']\n    }');
const B_ERRORS = ascii('\n  },\n  "errors": [');
const B_ERRORS_AFTER_NONE = ascii('},\n  "errors": [');
const B_ERROR_FIRST = ascii('\n    {"line": ');
const B_ERROR_NEXT = ascii(',\n    {"line": ');
const B_MESSAGE = ascii(', "message": ');
const B_END = ascii('\n  ]\n}\n');
const B_END_NO_ERRORS = ascii(']\n}\n');

/** `2026-03-01T09:30:00Z` into 20 bytes: whole seconds, years 1970–9999 (formatInstant does the rest). */
function instantBytes(ms: number, out: Uint8Array): void {
  const day = Math.floor(ms / DAY);
  let rest = (ms - day * DAY) / 1000;
  const c = civilFromDays(day);
  const y = Math.floor(c / 10000);
  const mo = Math.floor(c / 100) % 100;
  const d = c % 100;
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const mi = Math.floor(rest / 60);
  const s = rest - mi * 60;
  out[0] = 48 + Math.floor(y / 1000);
  out[1] = 48 + (Math.floor(y / 100) % 10);
  out[2] = 48 + (Math.floor(y / 10) % 10);
  out[3] = 48 + (y % 10);
  out[4] = 45;
  out[5] = 48 + Math.floor(mo / 10);
  out[6] = 48 + (mo % 10);
  out[7] = 45;
  out[8] = 48 + Math.floor(d / 10);
  out[9] = 48 + (d % 10);
  out[10] = 84;
  out[11] = 48 + Math.floor(h / 10);
  out[12] = 48 + (h % 10);
  out[13] = 58;
  out[14] = 48 + Math.floor(mi / 10);
  out[15] = 48 + (mi % 10);
  out[16] = 58;
  out[17] = 48 + Math.floor(s / 10);
  out[18] = 48 + (s % 10);
  out[19] = 90;
}

/** Bytes into a reused buffer, handed to `sink` when full. */
class ByteWriter {
  private buf: Buffer;
  private pos = 0;
  constructor(
    private readonly sink: (chunk: Uint8Array) => void,
    size: number,
  ) {
    this.buf = Buffer.allocUnsafe(Math.max(size, 4096));
  }

  flush(): void {
    if (this.pos > 0) this.sink(this.buf.subarray(0, this.pos));
    this.pos = 0;
  }

  private room(n: number): void {
    if (this.pos + n > this.buf.length) {
      this.flush();
      if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
    }
  }

  byte(b: number): void {
    if (this.pos === this.buf.length) this.flush();
    this.buf[this.pos++] = b;
  }

  bytes(b: Uint8Array): void {
    const n = b.length;
    this.room(n);
    if (n > 8) {
      this.buf.set(b, this.pos); // a native copy beats a byte loop beyond a few bytes
      this.pos += n;
      return;
    }
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) buf[p++] = b[i]!;
    this.pos = p;
  }

  /** A safe integer in decimal. */
  int(v: number): void {
    this.room(24);
    const buf = this.buf;
    let p = this.pos;
    if (v < 0) {
      buf[p++] = 45;
      v = -v;
    }
    if (v < 10) buf[p++] = 48 + v;
    else {
      let n = 0;
      for (let x = v; x > 0; x = Math.floor(x / 10)) n++;
      p += n;
      for (let i = 1; i <= n; i++) {
        const q10 = Math.floor(v / 10);
        buf[p - i] = 48 + (v - q10 * 10);
        v = q10;
      }
    }
    this.pos = p;
  }

  /** A JSON string literal: copied as is when plain ASCII, else JSON.stringify as UTF-8. */
  jsonString(s: string): void {
    const n = s.length;
    this.room(n + 2);
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = 34;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 32 || c > 126 || c === 34 || c === 92) {
        const lit = q(s);
        this.room(Buffer.byteLength(lit));
        this.pos += this.buf.write(lit, this.pos, 'utf8');
        return;
      }
      buf[p++] = c;
    }
    buf[p++] = 34;
    this.pos = p;
  }
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

function lcm(a: number, b: number): number {
  return (a / gcd(a, b)) * b;
}

/** floor(a × b / c) for non-negative integers, exact. */
function floorMulDiv(a: number, b: number, c: number): number {
  const p = a * b;
  if (Number.isSafeInteger(p)) return Math.floor(p / c);
  return Number((BigInt(a) * BigInt(b)) / BigInt(c));
}


/** A refund before the order vests: `points` off its pending contributions, base first, not the referee's nor the challenge's (4.9). */
function reducePending(m: Member, o: number, points: number): void {
  const refs = m.pRef;
  const codes = m.pCode;
  const pts = m.pPts;
  for (let h = m.pHead; h < refs.length && points > 0; h++) {
    if (refs[h] !== o) continue;
    const c = codes[h]!;
    if (c === C_REFEREE || c === C_REFERRER || c === C_CHALLENGE) continue;
    const take = Math.min(pts[h]!, points);
    pts[h]! -= take;
    points -= take;
  }
}

/** v2's catalog: "Free drink", 1000 points, Silver or above, once per local month (4.10). */
function redeemReward(m: Member, reward: string, t: number): string | null {
  if (reward !== 'Free drink') return `unknown reward ${q(reward)}`;
  if (m.tier < 1) return `member ${q(m.id)} does not meet the condition of reward ${q(reward)}`;
  const month = Math.floor(civilFromDays(Math.floor(zone.toLocal(t) / DAY)) / 100);
  if (m.rewardMonth === month) return `reward ${q(reward)}: limit of 1 per month used`;
  if (1000 > m.balance) return `reward ${q(reward)} costs 1000, the balance is ${m.balance}`;
  m.rewardMonth = month;
  m.L.add(m, t, C_REWARD, -1000, -1);
  m.balance -= 1000;
  consume(m, 1000);
  evalTier(m, t);
  refreshDue(m);
  return null;
}

function redeem(m: Member, points: number, orderTotal: number | null, t: number): string | null {
  if (points < 200) return `redeem of ${points} is below the minimum of 200`;
  if (points > m.balance) return `redeem of ${points} exceeds the balance of ${m.balance}`;
  // 100 points = 1 USD: the value in cents is the number of points; max 50% of the order.
  if (orderTotal !== null && points * 100 > 50 * orderTotal) return `redeem of ${points} is worth more than 50% of the order`;
  m.L.add(m, t, C_REDEEM, -points, -1);
  m.balance -= points;
  consume(m, points);
  evalTier(m, t);
  refreshDue(m);
  return null;
}

/** A staff correction: a lot of its own (after any deficit), or the oldest lots first. */
function adjust(m: Member, points: number, t: number): string | null {
  if (points > 0) earn(m, t, C_ADJUST, points, -1, plus12Months(t));
  else {
    m.L.add(m, t, C_ADJUST, points, -1);
    m.balance += points;
    consume(m, -points);
  }
  evalTier(m, t);
  refreshDue(m);
  return null;
}

function joinClub(m: Member, club: string, t: number): string | null {
  if (club !== CLUB) return `unknown club ${q(club)}`;
  if (m.clubStart <= t && t < m.clubEnd) return `member ${q(m.id)} is already in club ${q(club)}`;
  m.clubStart = t;
  m.clubEnd = zone.addMonths(t, 1); // fee per month: one month, not renewed
  if (!m.clubEver) {
    m.clubEver = true;
    earn(m, t, C_CLUB_JOIN, 200, -1, plus12Months(t));
    evalTier(m, t);
    refreshDue(m);
  }
  return null;
}

function cancelClub(m: Member, club: string, t: number): string | null {
  if (club !== CLUB) return `unknown club ${q(club)}`;
  if (!(m.clubStart <= t && t < m.clubEnd)) return `member ${q(m.id)} is not in club ${q(club)}`;
  m.clubEnd = t;
  return null;
}

function namedEvent(m: Member, name: string, t: number): string | null {
  if (name !== 'survey') return null; // no `on event` section: nothing, not an error
  const month = Math.floor(civilFromDays(Math.floor(zone.toLocal(t) / DAY)) / 100);
  if (m.surveyMonth === month) return null; // limit 1 times per month
  m.surveyMonth = month;
  earn(m, t, C_SURVEY, 50, -1, plus12Months(t));
  evalTier(m, t);
  refreshDue(m);
  return null;
}

// ---------------------------------------------------------------- whole streams

/** Decoded events of a stream, parsed up front (for evaluation-only timing). */
export interface ParsedStream {
  events: HwEvent[];
  lines: number[];
  errors: { line: number; message: string }[];
}

export function parseStream(text: string): ParsedStream {
  const out: ParsedStream = { events: [], lines: [], errors: [] };
  let line = 0;
  let from = 0;
  while (from < text.length) {
    let to = text.indexOf('\n', from);
    if (to < 0) to = text.length;
    line++;
    const ev = parseLine(text.slice(from, to));
    if (typeof ev === 'string') out.errors.push({ line, message: ev });
    else if (ev !== null) {
      out.events.push(ev);
      out.lines.push(line);
    }
    from = to + 1;
  }
  return out;
}

/** Evaluates pre-parsed events in memory. */
export function evaluate(stream: ParsedStream, options: ReplayOptions = {}): CoffeeReplay {
  const r = new CoffeeReplay(stream.events.length, options);
  const { events, lines, errors } = stream;
  let e = 0;
  for (let i = 0; i < events.length; i++) {
    // Keep malformed-line errors in line order with the others.
    while (e < errors.length && errors[e]!.line < lines[i]!) r.error(errors[e]!.line, errors[e++]!.message);
    r.push(events[i]!, lines[i]!);
  }
  while (e < errors.length) r.error(errors[e]!.line, errors[e++]!.message);
  return r;
}

/**
 * Streams a JSONL file through the replay (the CLI's line reader) and decodes
 * each line from its bytes (FastLineParser), falling back to JSON.parse for
 * any line outside its fast path.
 */
export function replayFile(path: string, chunkBytes?: number, options: ReplayOptions = {}): CoffeeReplay {
  const r = new CoffeeReplay(Math.ceil(statSync(path).size / 200), options); // ~230 bytes an event
  const fast = new FastLineParser();
  forEachLineBytes(path, (buf, a, b, line) => {
    let blank = true;
    for (let i = a; i < b; i++) {
      const c = buf[i]!;
      if (c !== 32 && c !== 9 && c !== 13) {
        blank = false;
        break;
      }
    }
    if (blank) return;
    const ev = fast.parse(buf, a, b);
    if (ev !== null) r.push(ev, line);
    else r.pushLine(buf.toString('utf8', a, b), line);
  }, undefined, chunkBytes);
  return r;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const v2 = args.includes('--v2');
  const file = args.filter((a) => a !== '--v2')[0];
  if (!file || file === '-h' || file === '--help') {
    process.stderr.write('usage: node --import tsx bench/handwritten.ts [--v2] EVENTS.jsonl > result.json\n  --v2  replay bench/coffee-chain-v2.loyalty instead of examples/coffee-chain.loyalty\n');
    process.exit(file ? 0 : 2);
  }
  let r: CoffeeReplay;
  try {
    r = replayFile(file, undefined, { v2 });
  } catch (e) {
    process.stderr.write(`cannot read ${file}: ${(e as Error).message}\n`);
    process.exit(2);
  }
  r.writeJson((s) => writeAllSync(1, s));
}
