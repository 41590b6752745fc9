// Time in the program's zone. Instants are epoch milliseconds (UTC).
//
// The zone rules come from temporal-polyfill (Temporal, backed by the
// runtime's IANA data); each UTC hour's offset is cached, so the hot path —
// an order's local date, weekday and time of day — is two integer operations
// and a map lookup. Local → instant follows Temporal's `compatible`
// disambiguation, and durations are added on the local wall clock, as dsl.md
// 4.1 says (test/engine/time.test.ts checks both against Temporal itself).
import { Temporal } from 'temporal-polyfill';
import { civilFromDays, daysFromCivil, daysInMonth, isLeapYear, parseDateParts } from '../../dsl/values.ts';
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

// Read by dsl/values.ts (one reader per format, shared with the language).
export { parseInstant, type InstantResult } from '../../dsl/values.ts';

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
export const parseBirthday = parseDateParts;
