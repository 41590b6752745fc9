// Time in the program's zone. Instants are epoch milliseconds (UTC).
//
// The zone rules come from temporal-polyfill (Temporal, backed by the
// runtime's IANA data); each UTC hour's offset is cached, so the hot path —
// an order's local date, weekday and time of day — is two integer operations
// and a map lookup. Local → instant follows Temporal's `compatible`
// disambiguation, and durations are added on the local wall clock, as dsl.md
// 4.1 says (test/engine/time.test.ts checks both against Temporal itself).
import { Temporal } from 'temporal-polyfill';
import { civilFromDays, daysFromCivil, daysInMonth, isLeapYear } from '../../dsl/values.ts';
import type { Duration } from '../../dsl/program.ts';

/** Days after 1970-01-01 whose zone offsets are cached in a typed array (to 2200). */
const DAYS_CACHED = 84_006;
/** Not looked up yet (no real offset is this large). */
const UNKNOWN = 1e15;

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

export class Zone {
  readonly name: string;
  private readonly utc: boolean;
  /** UTC day (then hour) → offset in ms, or NaN when it changes within it.
   * Days from 1970 to 2200 in a typed array (looked up for every order),
   * others and hours in maps. */
  private readonly dayOffsets = new Float64Array(DAYS_CACHED).fill(UNKNOWN);
  private readonly days = new Map<number, number>();
  private readonly hours = new Map<number, number>();

  constructor(name: string) {
    this.name = name;
    this.utc = name === 'UTC' || name === 'Etc/UTC';
    // Fails early (RangeError) for a zone the runtime does not know.
    this.exactOffset(0);
  }

  private exactOffset(ms: number): number {
    return Temporal.Instant.fromEpochMilliseconds(ms).toZonedDateTimeISO(this.name).offsetNanoseconds / 1e6;
  }

  /** The zone's UTC offset (ms) at an instant. */
  offset(ms: number): number {
    if (this.utc) return 0;
    const day = Math.floor(ms / DAY);
    let od = day >= 0 && day < DAYS_CACHED ? this.dayOffsets[day]! : (this.days.get(day) ?? UNKNOWN);
    if (od === UNKNOWN) {
      const a = this.exactOffset(day * DAY);
      const b = this.exactOffset(day * DAY + DAY - 1);
      od = a === b ? a : NaN;
      if (day >= 0 && day < DAYS_CACHED) this.dayOffsets[day] = od;
      else this.days.set(day, od);
    }
    if (od === od) return od;
    const h = Math.floor(ms / HOUR);
    let o = this.hours.get(h);
    if (o === undefined) {
      const a = this.exactOffset(h * HOUR);
      const b = this.exactOffset(h * HOUR + HOUR - 1);
      o = a === b ? a : NaN;
      this.hours.set(h, o);
    }
    return o === o ? o : this.exactOffset(ms);
  }

  /** Local wall-clock time of an instant, as ms since 1970-01-01T00:00 local. */
  toLocal(ms: number): number {
    return ms + this.offset(ms);
  }

  /** The instant of a local wall-clock time: a repeated time means the
   * earlier instant, a skipped one moves on by the gap (Temporal's
   * `compatible`). */
  fromLocal(local: number): number {
    if (this.utc) return local;
    const before = this.offset(local - DAY);
    const after = this.offset(local + DAY);
    if (before === after) {
      const t = local - before;
      if (this.offset(t) === before) return t;
    }
    let best = NaN;
    for (const o of [before, after, this.offset(local - before)]) {
      const t = local - o;
      if (this.offset(t) === o && !(t >= best)) best = t;
    }
    if (best === best) return best;
    // In a gap: read the wall time with the offset in force before it.
    return local - before;
  }

  /** Local calendar day (days since 1970-01-01) of an instant. */
  localDay(ms: number): number {
    return Math.floor(this.toLocal(ms) / DAY);
  }

  localYear(ms: number): number {
    return civilFromDays(this.localDay(ms)).y;
  }

  /** The instant of 00:00 local on a calendar day. */
  startOfDay(day: number): number {
    return this.fromLocal(day * DAY);
  }

  /** Start of the local calendar year `y`. */
  startOfYear(y: number): number {
    return this.startOfDay(daysFromCivil(y, 1, 1));
  }

  /** `ms + duration`, added on the local wall clock: days keep the local
   * time of day across DST changes, months and years keep the day of the
   * month, clamped to the month's last day. */
  add(ms: number, d: Duration): number {
    // Like Temporal, adding nothing keeps the instant (even in a repeated hour).
    if (d.amount === 0) return ms;
    const local = this.toLocal(ms);
    let day = Math.floor(local / DAY);
    const time = local - day * DAY;
    if (d.unit === 'day' || d.unit === 'week') {
      day += d.amount * (d.unit === 'week' ? 7 : 1);
    } else {
      // civilFromDays, inline (no object per call: this runs for every order).
      const z = day + 719468;
      const era = Math.floor(z / 146097);
      const doe = z - era * 146097;
      const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
      const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
      const mp = Math.floor((5 * doy + 2) / 153);
      const dd = doy - Math.floor((153 * mp + 2) / 5) + 1;
      const m = mp + (mp < 10 ? 3 : -9);
      const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
      const total = y * 12 + (m - 1) + d.amount * (d.unit === 'year' ? 12 : 1);
      const y2 = Math.floor(total / 12);
      const m2 = total - y2 * 12 + 1;
      day = daysFromCivil(y2, m2, Math.min(dd, daysInMonth(y2, m2)));
    }
    return this.fromLocal(day * DAY + time);
  }

  /** When a birthday (month, day) falls due in year `y`: 00:00 local; 29 Feb
   * falls on 28 Feb in other years. */
  birthdayIn(y: number, month: number, day: number): number {
    const d = month === 2 && day === 29 && !isLeapYear(y) ? 28 : day;
    return this.startOfDay(daysFromCivil(y, month, d));
  }
}

const zones = new Map<string, Zone>();
export function zoneFor(name: string): Zone {
  let z = zones.get(name);
  if (!z) {
    z = new Zone(name);
    zones.set(name, z);
  }
  return z;
}

// ---------------------------------------------------------------------------
// Instants in events and results

const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?$/;

export type InstantResult = { ok: true; ms: number } | { ok: false; error: string };

function digits2(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/** The fast path of parseInstant: epoch ms, or NaN for anything unusual
 * (parseInstant then says what is wrong). */
export function instantMs(s: string): number {
  const n = s.length;
  if (n < 17 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84 || s.charCodeAt(13) !== 58) return NaN;
  const yh = digits2(s, 0);
  const yl = digits2(s, 2);
  const mo = digits2(s, 5);
  const d = digits2(s, 8);
  const h = digits2(s, 11);
  const mi = digits2(s, 14);
  if (yh < 0 || yl < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59) return NaN;
  const y = yh * 100 + yl;
  if (d > daysInMonth(y, mo)) return NaN;
  let i = 16;
  let sec = 0;
  let frac = 0;
  if (s.charCodeAt(i) === 58) {
    sec = digits2(s, 17);
    if (sec < 0 || sec > 59) return NaN;
    i = 19;
    if (s.charCodeAt(i) === 46) {
      i++;
      const from = i;
      let scale = 100;
      for (let c = s.charCodeAt(i) - 48; c >= 0 && c <= 9; c = s.charCodeAt(++i) - 48) {
        frac += c * scale;
        scale /= 10;
      }
      if (i === from) return NaN;
      frac = Math.floor(frac + 1e-9);
    }
  }
  let offset = 0;
  const z = s.charCodeAt(i);
  if (z === 90) {
    if (i !== n - 1) return NaN;
  } else if ((z === 43 || z === 45) && n === i + 6 && s.charCodeAt(i + 3) === 58) {
    const oh = digits2(s, i + 1);
    const om = digits2(s, i + 4);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return NaN;
    offset = (z === 45 ? -1 : 1) * (oh * HOUR + om * MINUTE);
  } else return NaN;
  return daysFromCivil(y, mo, d) * DAY + h * HOUR + mi * MINUTE + sec * 1000 + frac - offset;
}

/** `YYYY-MM-DDTHH:MM[:SS[.fff]](Z|±HH:MM)` → epoch ms (fractions below a
 * millisecond are dropped). */
export function parseInstant(text: string): InstantResult {
  const fast = instantMs(text);
  if (fast === fast) return { ok: true, ms: fast };
  const m = INSTANT.exec(text);
  if (!m) return { ok: false, error: 'must be a time such as "2026-03-01T09:30:00Z"' };
  if (m[8] === undefined) return { ok: false, error: 'has no UTC offset' };
  const y = +m[1]!;
  const mo = +m[2]!;
  const d = +m[3]!;
  const h = +m[4]!;
  const mi = +m[5]!;
  const s = m[6] === undefined ? 0 : +m[6];
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 59) return { ok: false, error: 'is not a valid date and time' };
  let offset = 0;
  const z = m[8];
  if (z !== 'Z') {
    const oh = +z.slice(1, 3);
    const om = +z.slice(4, 6);
    if (oh > 23 || om > 59) return { ok: false, error: 'has an invalid UTC offset' };
    offset = (z[0] === '-' ? -1 : 1) * (oh * HOUR + om * MINUTE);
  }
  const frac = m[7] === undefined ? 0 : Math.floor(+('0.' + m[7]) * 1000 + 1e-9);
  return { ok: true, ms: daysFromCivil(y, mo, d) * DAY + h * HOUR + mi * MINUTE + s * 1000 + frac - offset };
}

/** `2026-03-01T09:30:00Z` (milliseconds only when there are some). */
export function formatInstant(ms: number): string {
  if (ms % 1000 === 0 && ms >= 0 && ms < 253402300800000) {
    const day = Math.floor(ms / DAY);
    let rest = (ms - day * DAY) / 1000;
    const { y, m, d } = civilFromDays(day);
    const h = Math.floor(rest / 3600);
    rest -= h * 3600;
    const mi = Math.floor(rest / 60);
    const s = rest - mi * 60;
    return `${y}-${two(m)}-${two(d)}T${two(h)}:${two(mi)}:${two(s)}Z`;
  }
  const iso = new Date(ms).toISOString();
  return ms % 1000 === 0 ? iso.slice(0, 19) + 'Z' : iso;
}

function two(n: number): string {
  return n < 10 ? '0' + n : '' + n;
}

/** A `YYYY-MM-DD` date's parts, or null when it is not a real date. */
export function parseBirthday(text: string): { y: number; m: number; d: number } | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return null;
  const y = +m[1]!;
  const mo = +m[2]!;
  const d = +m[3]!;
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return null;
  return { y, m: mo, d };
}
