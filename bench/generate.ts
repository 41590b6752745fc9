// Deterministic generator of a realistic event stream for
// examples/coffee-chain.loyalty (Bean & Leaf, 40 shops in NY/NJ), in the JSONL
// format of replay.md.
//
//   node --import tsx bench/generate.ts --events 1000000 --members 20000 \
//        --out bench/.data/coffee-1m.jsonl
//
// The same seed and options always give the same bytes. Events are in time
// order: a `tick` at local midnight every day, then that day's events sorted
// by time. The default (1,000,000 events, 20,000 members, 14 months from
// 2026-01-01) is about 228 MB.

import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeAllSync } from '../src/cli/lines.ts';
import { DAY, HOUR, MINUTE, Zone, civilFromDays, daysFromCivil, formatInstant, weekdayOfDay } from './tz.ts';

/** Bump when the output of a given seed/options changes (run.ts keys its cache on it). */
export const GENERATOR_VERSION = 1;

export interface GenerateOptions {
  events: number;
  members: number;
  seed: number;
  /** First local day, YYYY-MM-DD in America/New_York. */
  start: string;
  months: number;
  /**
   * Off by default. Adds the awkward cases for comparing two implementations
   * (not for timing): concentrated referrers (the yearly limit), 29 Feb and
   * DST-day birthdays, times on rule boundaries and in the repeated DST hour
   * with milliseconds, many partial refunds of multi-unit lines, heavier
   * redemptions, and a few bad lines (malformed, out of order, unknown member,
   * duplicate order id, over-refund). Bad lines come on top of `events`.
   */
  edge?: boolean;
  /**
   * Off by default. For bench/coffee-chain-v2.loyalty: after about 1.5% of
   * a member's lines (visits: orders, redemptions, refunds; not the sign-up)
   * the member also asks for the catalog's "Free drink" at the
   * counter (`redeem_reward`, same time), refused when below Silver, when one
   * was taken this month or when the balance is short. These come on top of
   * `events` and draw from their own generator, so the other lines are those
   * of the same seed without them.
   */
  rewards?: boolean;
}

export const DEFAULT_OPTIONS: GenerateOptions = {
  events: 1_000_000,
  members: 20_000,
  seed: 2026,
  start: '2026-01-01',
  months: 14,
};

export interface GenerateStats {
  lines: number;
  bytes: number;
  byType: Record<string, number>;
  days: number;
}

// ---------------------------------------------------------------- PRNG

/** sfc32: small, fast, good enough for synthetic data, fully deterministic. */
class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 15; i++) this.u32();
  }
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
  /** [0, 1) */
  next(): number {
    return this.u32() / 4294967296;
  }
  /** integer in [0, n) */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
}

/** Weighted choice over a fixed table (cumulative weights, linear scan: tables are small). */
class Weighted<T> {
  private cum: number[] = [];
  private total = 0;
  constructor(private readonly items: readonly T[], weights: readonly number[]) {
    for (const w of weights) {
      this.total += w;
      this.cum.push(this.total);
    }
  }
  pick(rng: Rng): T {
    const x = rng.next() * this.total;
    const c = this.cum;
    for (let i = 0; i < c.length; i++) if (x < c[i]!) return this.items[i]!;
    return this.items[this.items.length - 1]!;
  }
}

// ---------------------------------------------------------------- menu

interface MenuItem {
  sku: string;
  category: string;
  cents: number;
  price: string;
  taxable: boolean;
}

function item(sku: string, category: string, price: string, taxable = true): MenuItem {
  const [w, f = ''] = price.split('.');
  return { sku, category, cents: Number(w) * 100 + Number(f.padEnd(2, '0')), price, taxable };
}

const ESPRESSO = [
  item('LATTE-12', 'espresso', '4.65'),
  item('LATTE-16', 'espresso', '5.25'),
  item('OAT-LATTE-16', 'espresso', '5.95'),
  item('CAPPUCCINO-12', 'espresso', '4.45'),
  item('AMERICANO-16', 'espresso', '3.85'),
  item('FLAT-WHITE', 'espresso', '4.95'),
  item('MOCHA-16', 'espresso', '5.75'),
  item('CARAMEL-MAC-16', 'espresso', '5.95'),
  item('CORTADO', 'espresso', '4.10'),
  item('ESPRESSO-DBL', 'espresso', '3.25'),
  item('ICED-LATTE-20', 'espresso', '6.25'),
];
const BREWED = [
  item('DRIP-12', 'brewed', '2.45'),
  item('DRIP-16', 'brewed', '2.95'),
  item('DRIP-20', 'brewed', '3.45'),
  item('COLD-BREW-16', 'brewed', '4.75'),
  item('NITRO-16', 'brewed', '5.25'),
  item('POUR-OVER', 'brewed', '5.50'),
  item('CHAI-16', 'brewed', '4.95'),
  item('ICED-TEA-20', 'brewed', '3.25'),
];
const PASTRY = [
  item('CROISSANT', 'pastry', '3.75'),
  item('ALMOND-CRSNT', 'pastry', '4.50'),
  item('BLUEB-MUFFIN', 'pastry', '3.45'),
  item('SCONE', 'pastry', '3.25'),
  item('COOKIE', 'pastry', '2.50'),
  item('BAGEL-CC', 'pastry', '3.95'),
  item('BANANA-BREAD', 'pastry', '3.65'),
  item('CINN-ROLL', 'pastry', '4.25'),
];
const BEANS = [
  item('BEANS-HOUSE-12OZ', 'whole-beans', '15.99', false),
  item('BEANS-ETHIOPIA-12OZ', 'whole-beans', '19.99', false),
  item('BEANS-COLOMBIA-12OZ', 'whole-beans', '18.49', false),
  item('BEANS-DECAF-12OZ', 'whole-beans', '16.49', false),
  item('BEANS-ESPRESSO-2LB', 'whole-beans', '34.00', false),
];
const MERCH = [
  item('MUG-12OZ', 'merch', '14.00'),
  item('TUMBLER-20OZ', 'merch', '28.00'),
  item('TOTE-BAG', 'merch', '18.00'),
  item('DRIPPER', 'merch', '24.00'),
];
const GIFT = [
  item('GIFT-CARD-10', 'gift-card', '10.00', false),
  item('GIFT-CARD-25', 'gift-card', '25.00', false),
  item('GIFT-CARD-50', 'gift-card', '50.00', false),
];
const TAX_SKU = 'SALES-TAX';
/** NYC combined sales tax on prepared food and merchandise, in 1/100000. */
const TAX_RATE_E5 = 8875;

type Basket = 'drink' | 'drink+pastry' | 'two-drinks' | 'group' | 'beans' | 'pastry' | 'merch' | 'gift';
const BASKETS = new Weighted<Basket>(
  ['drink', 'drink+pastry', 'two-drinks', 'group', 'beans', 'pastry', 'merch', 'gift'],
  [44, 27, 9, 5, 6, 5, 2, 2],
);
const BASKETS_DECEMBER = new Weighted<Basket>(
  ['drink', 'drink+pastry', 'two-drinks', 'group', 'beans', 'pastry', 'merch', 'gift'],
  [38, 24, 9, 5, 10, 5, 4, 5],
);

// Local hour-of-day weights for visits.
const WEEKDAY_HOURS = [0.05, 0.03, 0.02, 0.02, 0.05, 0.6, 3.2, 9.5, 12, 8.5, 5.8, 5.6, 7.8, 6.2, 3.8, 3.6, 3.9, 3.9, 2.8, 1.8, 1.0, 0.5, 0.25, 0.1];
const WEEKEND_HOURS = [0.08, 0.05, 0.03, 0.02, 0.02, 0.1, 0.8, 3.0, 6.5, 9.5, 10, 9, 8, 7, 6, 5, 4.2, 3.4, 2.3, 1.6, 1.0, 0.6, 0.3, 0.15];
const HOURS = Array.from({ length: 24 }, (_, h) => h);
const WEEKDAY_HOUR = new Weighted(HOURS, WEEKDAY_HOURS);
const WEEKEND_HOUR = new Weighted(HOURS, WEEKEND_HOURS);
/** Relative visit volume Monday..Sunday. */
const DOW_WEIGHT = [1.0, 1.0, 1.02, 1.03, 1.05, 0.9, 0.8];

// ---------------------------------------------------------------- members

interface RecentLine {
  sku: string;
  qty: number;
  left: number;
}

interface Member {
  id: string;
  signupDay: number; // index of the local day
  signupAt: number; // ms, set when the signup is emitted
  birthday: string | null;
  wantsReferrer: boolean;
  clubMinded: boolean;
  clubUntil: number; // generator's belief of the membership end (ms)
  clubEver: boolean;
  points: number; // rough balance estimate, to pick realistic redemptions
  appUser: boolean;
  recent: { id: string; lines: RecentLine[] }[];
}

const REDEEM_POINTS = [200, 200, 200, 250, 300, 300, 400, 500, 500, 600, 800, 1000, 1500];

const KIND_ORDER = 0;
const KIND_REDEEM = 1;
const KIND_REFUND = 2;
const KIND_SURVEY = 3;
const KIND_OTHER_EVENT = 4;
const KIND_CLUB = 5;
const KIND_SIGNUP = 6;

const KINDS = new Weighted(
  [KIND_ORDER, KIND_REDEEM, KIND_REFUND, KIND_SURVEY, KIND_OTHER_EVENT],
  [95.3, 2.0, 1.0, 1.4, 0.3],
);

function pad(n: number, width: number): string {
  const s = String(n);
  return s.length >= width ? s : '0'.repeat(width - s.length) + s;
}

function centsToString(c: number): string {
  const w = Math.floor(c / 100);
  const f = c - w * 100;
  return w + '.' + (f < 10 ? '0' + f : String(f));
}

function offsetString(offMs: number): string {
  const sign = offMs < 0 ? '-' : '+';
  const a = Math.abs(offMs) / MINUTE;
  return sign + pad(Math.floor(a / 60), 2) + ':' + pad(a % 60, 2);
}

/** Local-time rendering `2026-03-01T08:05:22-05:00` (as a POS might send it). */
function formatLocal(zone: Zone, ms: number): string {
  const off = zone.offset(ms);
  const iso = formatInstant(ms + off);
  return iso.slice(0, iso.length - 1) + offsetString(off);
}

// ---------------------------------------------------------------- generator

/**
 * Generates the stream, handing out chunks of complete lines (each ending in
 * "\n") of roughly `chunkBytes`.
 */
export function generate(
  opts: Partial<GenerateOptions>,
  sink: (chunk: string) => void,
  chunkBytes = 4 << 20,
): GenerateStats {
  const o: GenerateOptions = { ...DEFAULT_OPTIONS, ...opts };
  const rng = new Rng(o.seed);
  // Edge-case decisions draw from their own generator, so the default stream does not change.
  const edge = o.edge === true;
  const erng = new Rng(o.seed ^ 0x5eed);
  const rewards = o.rewards === true;
  const rrng = new Rng(o.seed ^ 0xd71c);
  const zone = new Zone('America/New_York');
  const [sy, sm, sd] = o.start.split('-').map(Number) as [number, number, number];
  const firstDay = daysFromCivil(sy, sm, sd);
  const endTotal = sy * 12 + (sm - 1) + o.months;
  const lastDayExcl = daysFromCivil(Math.floor(endTotal / 12), (endTotal % 12) + 1, sd);
  const nDays = lastDayExcl - firstDay;
  const nMembers = o.members;
  const rest = o.events - nMembers - nDays;
  if (nMembers < 1) throw new Error('--members must be at least 1');
  if (rest < 0) {
    throw new Error(`--events ${o.events} is too small: ${nMembers} signups and ${nDays} ticks alone need ${nMembers + nDays}`);
  }

  // Members: signup day, activity weight, traits.
  const members: Member[] = [];
  const weight = new Float64Array(nMembers);
  const idWidth = Math.max(5, String(nMembers).length);
  for (let i = 0; i < nMembers; i++) {
    let signupDay: number;
    const r = rng.next();
    if (r < 0.3) signupDay = rng.int(Math.min(21, nDays)); // launch weeks
    else signupDay = Math.floor(Math.pow(rng.next(), 1.25) * Math.max(1, nDays - 14)); // tapering sign-ups
    let birthday: string | null = null;
    if (rng.chance(0.62)) {
      const by = 1952 + rng.int(55);
      const bday = daysFromCivil(by, 1, 1) + rng.int(daysFromCivil(by + 1, 1, 1) - daysFromCivil(by, 1, 1));
      const c = civilFromDays(bday);
      birthday = `${Math.floor(c / 10000)}-${pad(Math.floor(c / 100) % 100, 2)}-${pad(c % 100, 2)}`;
    }
    if (edge && erng.chance(0.15)) birthday = erng.pick(['1992-02-29', '2000-02-29', '1988-03-08', '1979-03-14', '1975-11-01', '1990-01-31']);
    // Visit frequency: log-normal, a few daily regulars and many occasional guests.
    let w = Math.exp(rng.normal() * 0.8);
    if (rng.chance(0.12)) w *= 0.15; // one-time visitors
    weight[i] = w;
    members.push({
      id: 'm-' + pad(i + 1, idWidth),
      signupDay,
      signupAt: 0,
      birthday,
      wantsReferrer: rng.chance(0.16) || (edge && erng.chance(0.3)),
      clubMinded: rng.chance(0.07),
      clubUntil: -Infinity,
      clubEver: false,
      points: 0,
      appUser: rng.chance(0.45),
      recent: [],
    });
  }

  // Spread the remaining events over members in proportion to weight × active days.
  const cum = new Float64Array(nMembers);
  let total = 0;
  for (let i = 0; i < nMembers; i++) {
    total += weight[i]! * (nDays - members[i]!.signupDay);
    cum[i] = total;
  }
  const perDay = new Int32Array(nDays);
  const evMember = new Int32Array(rest);
  const evDay = new Int32Array(rest);
  for (let e = 0; e < rest; e++) {
    const x = rng.next() * total;
    let lo = 0, hi = nMembers - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid]! > x) hi = mid;
      else lo = mid + 1;
    }
    const m = members[lo]!;
    // A day in the member's active period, by weekday volume (rejection).
    let day: number;
    for (;;) {
      day = m.signupDay + rng.int(nDays - m.signupDay);
      if (rng.next() * 1.05 < DOW_WEIGHT[weekdayOfDay(firstDay + day)]!) break;
    }
    evMember[e] = lo;
    evDay[e] = day;
    perDay[day]!++;
  }
  // Bucket by day (counting sort, stable in e).
  const dayStart = new Int32Array(nDays + 1);
  for (let d = 0; d < nDays; d++) dayStart[d + 1] = dayStart[d]! + perDay[d]!;
  const fill = dayStart.slice(0, nDays);
  const bucket = new Int32Array(rest);
  for (let e = 0; e < rest; e++) bucket[fill[evDay[e]!]!++] = evMember[e]!;
  const signupsByDay: number[][] = Array.from({ length: nDays }, () => []);
  for (let i = 0; i < nMembers; i++) signupsByDay[members[i]!.signupDay]!.push(i);

  const stats: GenerateStats = { lines: 0, bytes: 0, byType: {}, days: nDays };
  const count = (t: string) => {
    stats.byType[t] = (stats.byType[t] ?? 0) + 1;
  };
  let buf: string[] = [];
  let bufBytes = 0;
  const emit = (line: string) => {
    buf.push(line);
    bufBytes += line.length + 1;
    stats.lines++;
    if (bufBytes >= chunkBytes) flush();
  };
  const flush = () => {
    if (buf.length === 0) return;
    const chunk = buf.join('\n') + '\n';
    stats.bytes += Buffer.byteLength(chunk);
    sink(chunk);
    buf = [];
    bufBytes = 0;
  };

  const signedUp: string[] = [];
  let dayBaskets = BASKETS;
  let orderSeq = 0;
  const orderIdWidth = Math.max(7, String(o.events).length);

  // Day loop.
  const times: number[] = [];
  const kinds: number[] = [];
  const who: number[] = [];
  const idx: number[] = [];
  for (let d = 0; d < nDays; d++) {
    const dayNum = firstDay + d;
    const dayLocal = dayNum * DAY;
    const dayUtc = zone.toUtc(dayLocal);
    const nextDayUtc = zone.toUtc(dayLocal + DAY);
    const dow = weekdayOfDay(dayNum);
    const weekend = dow >= 5;
    const hourTable = weekend ? WEEKEND_HOUR : WEEKDAY_HOUR;
    const month = Math.floor(civilFromDays(dayNum) / 100) % 100;
    dayBaskets = month === 12 ? BASKETS_DECEMBER : BASKETS;

    emit(`{"type":"tick","at":"${formatInstant(dayUtc)}"}`);
    count('tick');

    times.length = 0;
    kinds.length = 0;
    who.length = 0;
    const drawTime = () => {
      const h = hourTable.pick(rng);
      let t = zone.toUtc(dayLocal + h * HOUR + rng.int(3600) * 1000);
      if (edge && erng.chance(0.05)) {
        // Rule boundaries (local), or anywhere in the UTC day with milliseconds (the repeated DST hour too).
        const r = erng.int(6);
        if (r === 0) t = zone.toUtc(dayLocal + 14 * HOUR);
        else if (r === 1) t = zone.toUtc(dayLocal + 17 * HOUR - 1);
        else if (r === 2) t = zone.toUtc(dayLocal + 17 * HOUR);
        else if (r === 3) t = dayUtc + 1 + erng.int(999);
        else t = dayUtc + erng.int(nextDayUtc - dayUtc);
      }
      // Never on or after the next tick (the skipped DST hour may push it).
      return Math.max(dayUtc, Math.min(t, nextDayUtc - 1000));
    };
    for (const i of signupsByDay[d]!) {
      const t = drawTime();
      members[i]!.signupAt = t;
      times.push(t);
      kinds.push(KIND_SIGNUP);
      who.push(i);
    }
    for (let k = dayStart[d]!; k < dayStart[d + 1]!; k++) {
      const i = bucket[k]!;
      const m = members[i]!;
      let t = drawTime();
      if (m.signupDay === d && t <= m.signupAt) {
        t = Math.min(m.signupAt + (1 + rng.int(40)) * MINUTE + rng.int(60) * 1000, nextDayUtc - 1000);
        if (t < m.signupAt) t = m.signupAt;
      }
      let kind = KINDS.pick(rng);
      if (m.clubMinded && rng.chance(0.1)) kind = KIND_CLUB;
      if (edge && kind === KIND_ORDER && erng.chance(0.08)) kind = erng.chance(0.6) ? KIND_REFUND : KIND_REDEEM;
      times.push(t);
      kinds.push(kind);
      who.push(i);
    }
    idx.length = 0;
    for (let k = 0; k < times.length; k++) idx.push(k);
    idx.sort((a, b) => times[a]! - times[b]! || a - b);

    for (const k of idx) {
      const t = times[k]!;
      const m = members[who[k]!]!;
      const at = formatInstant(t);
      switch (kinds[k]) {
        case KIND_SIGNUP: {
          let line = `{"type":"signup","at":"${at}","member":"${m.id}"`;
          if (m.birthday) line += `,"birthday":"${m.birthday}"`;
          if (m.wantsReferrer && signedUp.length > 0) {
            let ref = signedUp[rng.int(signedUp.length)]!;
            if (edge && erng.chance(0.7)) ref = signedUp[erng.int(Math.min(4, signedUp.length))]!; // a few busy referrers
            line += `,"referrer":"${ref}"`;
          }
          emit(line + '}');
          count('signup');
          signedUp.push(m.id);
          m.points = 100;
          break;
        }
        case KIND_REDEEM: {
          if (m.points < 200 && rng.chance(0.6)) {
            emitOrder(m, t, at);
            break;
          }
          // Coffee-sized redemptions: a few dollars off, now and then a bigger one.
          let points: number;
          if (rng.chance(0.08)) points = 50 * (1 + rng.int(60)); // may be refused (min, balance)
          else {
            const opts = REDEEM_POINTS.filter((p) => p <= m.points);
            points = opts.length > 0 ? rng.pick(opts) : 200;
          }
          if (edge && erng.chance(0.4)) points = Math.max(200, Math.floor(m.points * (0.5 + erng.next() * 0.6)));
          let line = `{"type":"redeem","at":"${at}","member":"${m.id}","points":${points}`;
          if (rng.chance(0.65)) {
            // Usually an order that the redemption fits (at most half of it), sometimes a small one.
            const total = rng.chance(0.9) ? 2 * points + rng.int(2400) : 300 + rng.int(1500);
            line += `,"order_total":"${centsToString(total)}"`;
          }
          emit(line + '}');
          count('redeem');
          m.points -= Math.min(points, Math.max(0, m.points));
          break;
        }
        case KIND_REFUND: {
          const candidates = m.recent.filter((r) => r.lines.some((l) => l.left > 0));
          if (candidates.length === 0) {
            emitOrder(m, t, at);
            break;
          }
          const r = candidates[candidates.length - 1 - rng.int(Math.min(2, candidates.length))]!;
          const parts: string[] = [];
          if (rng.chance(0.35)) {
            for (const l of r.lines) {
              if (l.left > 0) {
                parts.push(`{"sku":"${l.sku}","qty":${l.left}}`);
                l.left = 0;
              }
            }
          } else {
            const open = r.lines.filter((l) => l.left > 0);
            const l = open[rng.int(open.length)]!;
            const q = 1 + rng.int(l.left);
            parts.push(`{"sku":"${l.sku}","qty":${q}}`);
            l.left -= q;
          }
          emit(`{"type":"refund","at":"${at}","member":"${m.id}","order":"${r.id}","lines":[${parts.join(',')}]}`);
          count('refund');
          break;
        }
        case KIND_SURVEY:
          emit(`{"type":"event","at":"${at}","member":"${m.id}","name":"survey"}`);
          count('event');
          m.points += 25;
          break;
        case KIND_OTHER_EVENT:
          emit(`{"type":"event","at":"${at}","member":"${m.id}","name":"${rng.chance(0.5) ? 'app-review' : 'shared-referral-link'}"}`);
          count('event');
          break;
        case KIND_CLUB: {
          const active = t < m.clubUntil;
          const r = rng.next();
          if (active && r < 0.15) {
            emit(`{"type":"cancel_club","at":"${at}","member":"${m.id}","club":"Bean Club"}`);
            count('cancel_club');
            m.clubUntil = t;
          } else if (!active || r < 0.22) {
            // (while active: a second join from a stale app screen, refused)
            emit(`{"type":"join_club","at":"${at}","member":"${m.id}","club":"Bean Club"}`);
            count('join_club');
            if (!active) {
              m.clubUntil = zone.addMonths(t, 1);
              if (!m.clubEver) m.points += 200;
              m.clubEver = true;
            }
          } else emitOrder(m, t, at);
          break;
        }
        default:
          emitOrder(m, t, at);
      }
      if (rewards && kinds[k] !== KIND_SIGNUP && rrng.chance(0.015)) {
        emit(`{"type":"redeem_reward","at":"${at}","member":"${m.id}","reward":"Free drink"}`);
        count('redeem_reward');
      }
      if (edge && erng.chance(0.004)) emitBad(m, t, at, dayUtc);
    }
  }
  flush();
  return stats;

  /** A line the replay must reject, at time `t` (or before today's tick: out of order). */
  function emitBad(m: Member, t: number, at: string, dayUtc: number): void {
    const latte = '{"sku":"LATTE-12","category":"espresso","qty":1,"price":"4.65"}';
    const last = orderSeq > 0 ? 'o-' + pad(orderSeq, orderIdWidth) : 'o-none';
    const r = erng.int(6);
    let line: string;
    if (r === 0) line = `{"type":"order","at":"${at}","member":"${m.id}","id":"bad-${stats.lines}"`;
    else if (r === 1) line = `{"type":"order","at":"${formatInstant(dayUtc - 1000)}","member":"${m.id}","id":"late-${stats.lines}","lines":[${latte}]}`;
    else if (r === 2) line = `{"type":"order","at":"${at}","member":"ghost-${stats.lines}","id":"ghost-${stats.lines}","lines":[${latte}]}`;
    else if (r === 3) line = `{"type":"order","at":"${at}","member":"${m.id}","id":"${last}","lines":[${latte}]}`;
    else if (r === 4) line = `{"type":"refund","at":"${at}","member":"${m.id}","order":"${m.recent.at(-1)?.id ?? last}","lines":[{"sku":"LATTE-12","qty":99}]}`;
    else line = `{"type":"order","at":"${at}","member":"${m.id}","id":"money-${stats.lines}","lines":[{"sku":"X","category":"pastry","qty":1,"price":"4.505"}]}`;
    emit(line);
    count('bad');
  }

  function emitOrder(m: Member, t: number, atUtc: string): void {
    const basket = dayBaskets.pick(rng);
    const lines: { it: MenuItem; qty: number }[] = [];
    const drink = () => (rng.chance(0.62) ? rng.pick(ESPRESSO) : rng.pick(BREWED));
    switch (basket) {
      case 'drink':
        lines.push({ it: drink(), qty: 1 });
        break;
      case 'drink+pastry':
        lines.push({ it: drink(), qty: 1 });
        lines.push({ it: rng.pick(PASTRY), qty: rng.chance(0.85) ? 1 : 2 });
        break;
      case 'two-drinks':
        lines.push({ it: drink(), qty: 1 });
        lines.push({ it: drink(), qty: 1 });
        if (rng.chance(0.3)) lines.push({ it: rng.pick(PASTRY), qty: 1 + rng.int(2) });
        break;
      case 'group':
        lines.push({ it: drink(), qty: 2 + rng.int(3) });
        lines.push({ it: rng.pick(PASTRY), qty: 1 + rng.int(4) });
        lines.push({ it: drink(), qty: 1 + rng.int(2) });
        break;
      case 'beans':
        lines.push({ it: rng.pick(BEANS), qty: rng.chance(0.8) ? 1 : 2 });
        if (rng.chance(0.6)) lines.push({ it: drink(), qty: 1 });
        break;
      case 'pastry':
        lines.push({ it: rng.pick(PASTRY), qty: 1 + rng.int(3) });
        break;
      case 'merch':
        lines.push({ it: rng.pick(MERCH), qty: 1 });
        if (rng.chance(0.5)) lines.push({ it: drink(), qty: 1 });
        break;
      case 'gift':
        lines.push({ it: rng.pick(GIFT), qty: rng.chance(0.9) ? 1 : 2 });
        if (rng.chance(0.4)) lines.push({ it: drink(), qty: 1 });
        break;
    }
    // Channel: app users order ahead in the app most of the time.
    const r = rng.next();
    let channel: string | null;
    if (m.appUser) channel = r < 0.7 ? 'app' : r < 0.95 ? 'store' : null;
    else channel = r < 0.08 ? 'app' : r < 0.9 ? 'store' : null;
    if (edge && erng.chance(0.25)) {
      // A multi-unit line (refunds of part of it give fractions of a cent).
      const l = lines[erng.int(lines.length)]!;
      l.qty = 3 + erng.int(5);
    }
    let taxable = 0;
    for (const l of lines) if (l.it.taxable) taxable += l.it.cents * l.qty;
    const parts: string[] = [];
    let eligible = 0;
    const recentLines: RecentLine[] = [];
    for (const l of lines) {
      parts.push(`{"sku":"${l.it.sku}","category":"${l.it.category}","qty":${l.qty},"price":"${l.it.price}"}`);
      recentLines.push({ sku: l.it.sku, qty: l.qty, left: l.qty });
      if (l.it.category !== 'gift-card') eligible += l.it.cents * l.qty;
    }
    if (taxable > 0 && lines.length < 4 && channel === 'store') {
      // The store POS sends sales tax as a line; the app settles it separately.
      const tax = Math.round((taxable * TAX_RATE_E5) / 100000);
      parts.push(`{"sku":"${TAX_SKU}","category":"tax","qty":1,"price":"${centsToString(tax)}"}`);
      recentLines.push({ sku: TAX_SKU, qty: 1, left: 1 });
    }
    const id = 'o-' + pad(++orderSeq, orderIdWidth);
    // Store POS terminals send local time with an offset; the app sends UTC.
    const at = channel === 'store' && rng.chance(0.1) ? formatLocal(zone, t) : atUtc;
    let line = `{"type":"order","at":"${at}","member":"${m.id}","id":"${id}","lines":[${parts.join(',')}]`;
    if (channel !== null) line += `,"channel":"${channel}"`;
    else if (rng.chance(0.5)) line += `,"channel":null`;
    emit(line + '}');
    count('order');
    m.points += Math.floor(eligible / 10) + 15;
    m.recent.push({ id, lines: recentLines });
    if (m.recent.length > 4) m.recent.shift();
  }
}

/** Writes the stream to a file (synchronous, in large chunks). */
export function generateToFile(path: string, opts: Partial<GenerateOptions>): GenerateStats {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, 'w');
  try {
    return generate(opts, (chunk) => writeAllSync(fd, Buffer.from(chunk)));
  } finally {
    closeSync(fd);
  }
}

/** Generates into memory (small streams, tests). */
export function generateToString(opts: Partial<GenerateOptions>): string {
  const parts: string[] = [];
  generate(opts, (c) => parts.push(c), 1 << 20);
  return parts.join('');
}

// ---------------------------------------------------------------- CLI

function parseArgs(argv: string[]): { opts: Partial<GenerateOptions>; out: string | null } {
  const opts: Partial<GenerateOptions> = {};
  let out: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${a} needs a value`);
      return x;
    };
    const num = (x: string) => {
      const n = Number(x.replace(/_/g, ''));
      if (!Number.isInteger(n) || n < 0) throw new Error(`${a}: not a non-negative integer: ${x}`);
      return n;
    };
    switch (a) {
      case '--events': opts.events = num(v()); break;
      case '--members': opts.members = num(v()); break;
      case '--seed': opts.seed = num(v()); break;
      case '--months': opts.months = num(v()); break;
      case '--start': opts.start = v(); break;
      case '--out': out = v(); break;
      case '--edge': opts.edge = true; break;
      case '--rewards': opts.rewards = true; break;
      case '-h':
      case '--help':
        process.stdout.write(
          'usage: node --import tsx bench/generate.ts [--events N] [--members N] [--seed N] [--months N] [--start YYYY-MM-DD] [--edge] [--rewards] [--out FILE]\n' +
            'Writes JSONL to FILE, or to stdout without --out.\n',
        );
        process.exit(0);
      default:
        throw new Error(`unknown option ${a}`);
    }
  }
  return { opts, out };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { opts, out } = parseArgs(process.argv.slice(2));
  const t0 = process.hrtime.bigint();
  const stats = out ? generateToFile(out, opts) : generate(opts, (c) => writeAllSync(1, Buffer.from(c)));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stderr.write(
    `${stats.lines} events (${Object.entries(stats.byType).map(([k, v]) => `${k} ${v}`).join(', ')}), ` +
      `${(stats.bytes / 1e6).toFixed(1)} MB, ${(stats.bytes / stats.lines).toFixed(1)} bytes/line, ${stats.days} days, ${secs.toFixed(1)} s\n`,
  );
}
