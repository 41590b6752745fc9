// Calendar and time-zone arithmetic for the benchmark (generator and the
// hand-written evaluator). Times are epoch milliseconds; a "local" time is the
// wall-clock reading of the zone expressed as milliseconds as if it were UTC.
//
// Offsets come from Intl once per year (the year's transitions are found by
// sampling and bisection) and are then looked up from a cached segment, so the
// hot path is a couple of comparisons.

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;
const UNKNOWN = 1e300;

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = m > 2 ? m - 3 : m + 9;
  const doy = Math.floor((153 * mp + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Inverse of daysFromCivil; returns year * 10000 + month * 100 + day. */
export function civilFromDays(z: number): number {
  z += 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return y * 10000 + m * 100 + d;
}

export function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

const MONTH_DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
export function daysInMonth(y: number, m: number): number {
  return m === 2 && isLeap(y) ? 29 : MONTH_DAYS[m]!;
}

/** Monday = 0 ... Sunday = 6 for a day number (1970-01-01 was a Thursday). */
export function weekdayOfDay(day: number): number {
  return (((day + 3) % 7) + 7) % 7;
}

/** A number identifying the Monday-started week that contains `day`. */
export function weekOfDay(day: number): number {
  return Math.floor((day + 3) / 7);
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function intlOffset(zone: string, utc: number): number {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  let y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  for (const p of f.formatToParts(utc)) {
    switch (p.type) {
      case 'year': y = +p.value; break;
      case 'month': mo = +p.value; break;
      case 'day': d = +p.value; break;
      case 'hour': h = +p.value; break;
      case 'minute': mi = +p.value; break;
      case 'second': s = +p.value; break;
    }
  }
  const local = daysFromCivil(y, mo, d) * DAY + h * HOUR + mi * MINUTE + s * 1000;
  const wholeSecond = Math.floor(utc / 1000) * 1000;
  return local - wholeSecond;
}

/** One IANA zone with cached offsets. */
export class Zone {
  readonly name: string;
  // Sorted transition instants and the offset in force from each one on.
  private starts: number[] = [];
  private offsets: number[] = [];
  private loaded = new Set<number>();
  // The segment of the last lookup.
  private segStart = 1;
  private segEnd = 0;
  private segOffset = 0;

  constructor(name: string) {
    this.name = name;
    // Throws RangeError for an unknown zone.
    new Intl.DateTimeFormat('en-US', { timeZone: name });
  }

  private loadYear(year: number): void {
    if (this.loaded.has(year)) return;
    this.loaded.add(year);
    const from = daysFromCivil(year, 1, 1) * DAY;
    const to = daysFromCivil(year + 1, 1, 1) * DAY;
    let prevT = from;
    let prevO = intlOffset(this.name, from);
    const found: [number, number][] = [[from, prevO]];
    for (let t = from + DAY; t <= to; t += DAY) {
      const o = intlOffset(this.name, t);
      if (o !== prevO) {
        // Bisect to the first second with the new offset.
        let lo = prevT, hi = t;
        while (hi - lo > 1000) {
          const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
          if (intlOffset(this.name, mid) === prevO) lo = mid;
          else hi = mid;
        }
        found.push([hi, o]);
        prevO = o;
      }
      prevT = t;
    }
    const merged: [number, number][] = [];
    for (let i = 0; i < this.starts.length; i++) merged.push([this.starts[i]!, this.offsets[i]!]);
    for (const f of found) merged.push(f);
    merged.sort((a, b) => a[0] - b[0]);
    this.starts = [];
    this.offsets = [];
    for (const [t, o] of merged) {
      if (this.offsets.length > 0 && this.offsets[this.offsets.length - 1] === o) continue;
      this.starts.push(t);
      this.offsets.push(o);
    }
    this.segStart = 1;
    this.segEnd = 0;
  }

  /** local − UTC in milliseconds at the instant `utc`. */
  offset(utc: number): number {
    if (utc >= this.segStart && utc < this.segEnd) return this.segOffset;
    return this.slowOffset(utc);
  }

  private slowOffset(utc: number): number {
    const y = Math.floor(civilFromDays(Math.floor(utc / DAY)) / 10000);
    this.loadYear(y - 1);
    this.loadYear(y);
    this.loadYear(y + 1);
    const s = this.starts;
    let lo = 0, hi = s.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (s[mid]! <= utc) lo = mid;
      else hi = mid - 1;
    }
    const o = this.offsets[lo]!;
    // Only cache within the loaded years, so lookups outside reload.
    const yStart = daysFromCivil(y, 1, 1) * DAY;
    const yEnd = daysFromCivil(y + 1, 1, 1) * DAY;
    this.segStart = Math.max(s[lo]!, yStart);
    this.segEnd = Math.min(lo + 1 < s.length ? s[lo + 1]! : Infinity, yEnd);
    this.segOffset = o;
    return o;
  }

  toLocal(utc: number): number {
    return utc + this.offset(utc);
  }

  // Per local day: the offset when it is the same over the whole local day
  // (and 18 h either side), NaN when a transition is near; UNKNOWN until asked.
  private dayBase = daysFromCivil(1900, 1, 1);
  private dayOff = new Float64Array(daysFromCivil(2200, 1, 1) - daysFromCivil(1900, 1, 1)).fill(UNKNOWN);

  private dayOffset(day: number): number {
    const i = day - this.dayBase;
    if (i < 0 || i >= this.dayOff.length) return NaN;
    let o = this.dayOff[i]!;
    if (o === UNKNOWN) {
      const from = day * DAY - 18 * HOUR - DAY;
      const to = (day + 1) * DAY + 18 * HOUR + DAY;
      o = this.offset(from);
      // Same segment over [from, to]?
      if (!(this.segStart <= from && this.segEnd > to)) {
        // The segment cache is limited to a calendar year: compare the ends and the transition list.
        const o2 = this.offset(to);
        if (o2 !== o || this.hasTransitionIn(from, to)) o = NaN;
      }
      this.dayOff[i] = o;
    }
    return o;
  }

  private hasTransitionIn(from: number, to: number): boolean {
    for (const t of this.starts) if (t > from && t <= to) return true;
    return false;
  }

  /**
   * The instant of a local wall-clock time, resolved like Temporal's
   * `disambiguation: "compatible"`: a repeated time means the earlier instant,
   * a skipped time moves on by the gap.
   */
  toUtc(local: number): number {
    const o = this.dayOffset(Math.floor(local / DAY));
    if (o === o) return local - o; // not NaN
    return this.toUtcSlow(local);
  }

  private toUtcSlow(local: number): number {
    const before = this.offset(local - DAY);
    const after = this.offset(local + DAY);
    if (before === after) {
      // Usual case; still verify (a transition could lie inside the ±1 day).
      const u = local - before;
      if (this.offset(u) === before) return u;
    }
    const u1 = local - before;
    const ok1 = this.offset(u1) === before;
    const u2 = local - after;
    const ok2 = this.offset(u2) === after;
    if (ok1 && ok2) return Math.min(u1, u2);
    if (ok1) return u1;
    if (ok2) return u2;
    return local - before;
  }

  /** `utc` plus `n` calendar months on the local wall clock (day clamped). */
  addMonths(utc: number, n: number): number {
    if (n === 0) return utc;
    const local = this.toLocal(utc);
    const day = Math.floor(local / DAY);
    const tod = local - day * DAY;
    const c = civilFromDays(day);
    const y = Math.floor(c / 10000);
    const m = Math.floor(c / 100) % 100;
    const d = c % 100;
    const total = y * 12 + (m - 1) + n;
    const y2 = Math.floor(total / 12);
    const m2 = total - y2 * 12 + 1;
    const d2 = Math.min(d, daysInMonth(y2, m2));
    return this.toUtc(daysFromCivil(y2, m2, d2) * DAY + tod);
  }

  /** `utc` plus `n` days on the local wall clock. */
  addDays(utc: number, n: number): number {
    if (n === 0) return utc;
    return this.toUtc(this.toLocal(utc) + n * DAY);
  }
}

const isoCache = { ms: NaN, s: '' };

/** 2026-03-01T09:30:00Z (milliseconds shown only when not zero). */
export function formatInstant(ms: number): string {
  if (ms === isoCache.ms) return isoCache.s;
  const day = Math.floor(ms / DAY);
  let rest = ms - day * DAY;
  const c = civilFromDays(day);
  const y = Math.floor(c / 10000);
  const mo = Math.floor(c / 100) % 100;
  const d = c % 100;
  const h = Math.floor(rest / HOUR);
  rest -= h * HOUR;
  const mi = Math.floor(rest / MINUTE);
  rest -= mi * MINUTE;
  const s = Math.floor(rest / 1000);
  const milli = rest - s * 1000;
  let out =
    (y < 1000 ? String(y).padStart(4, '0') : String(y)) + '-' + two(mo) + '-' + two(d) + 'T' + two(h) + ':' + two(mi) + ':' + two(s);
  if (milli !== 0) out += '.' + String(milli).padStart(3, '0');
  out += 'Z';
  isoCache.ms = ms;
  isoCache.s = out;
  return out;
}

function two(n: number): string {
  return n < 10 ? '0' + n : String(n);
}
