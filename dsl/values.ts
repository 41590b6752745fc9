// Literal values: exact decimals as ratios, money in minor units, dates as
// day numbers, times of day in minutes. Shared by the checker (which reports
// what does not parse) and the compiler (which only sees checked input).

/** A non-negative rational n/d in lowest terms, d > 0. */
export interface Ratio {
  readonly n: number;
  readonly d: number;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

export function ratio(n: number, d: number): Ratio {
  const g = gcd(Math.abs(n), Math.abs(d)) || 1;
  return { n: n / g, d: d / g };
}

/** "1.25" → 5/4. Null when the text is not a plain decimal or too precise. */
export function parseDecimal(raw: string): Ratio | null {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(raw);
  if (!m) return null;
  const frac = m[3] ?? '';
  if (frac.length > 9) return null;
  const n = Number(m[2]! + frac);
  if (!Number.isSafeInteger(n)) return null;
  return ratio(m[1] ? -n : n, 10 ** frac.length);
}

export function isNegative(raw: string): boolean {
  return raw.startsWith('-');
}

/** An integer if `raw` is a whole number (no fraction), else null. */
export function parseInteger(raw: string): number | null {
  if (!/^-?\d+$/.test(raw)) return null;
  const n = Number(raw);
  return Number.isSafeInteger(n) ? n : null;
}

export type MinorResult = { ok: true; minor: number } | { ok: false; reason: 'syntax' | 'decimals' | 'range' };

const POW10 = [1, 10, 100, 1000, 10000];

/**
 * The one reader of money: a decimal string (`[-]digits[.digits]`) → minor
 * units at the currency's exponent ("4.50" at 2 → 450). Refuses more
 * decimals than the currency has, except trailing zeros ("500.0" JPY is
 * 500). The language, the event decoder and the server all read money here.
 */
export function toMinorUnits(amount: string, exponent: number): MinorResult {
  const n = amount.length;
  let i = amount.charCodeAt(0) === 45 ? 1 : 0;
  const negative = i === 1;
  const from = i;
  let whole = 0;
  for (let c = amount.charCodeAt(i) - 48; c >= 0 && c <= 9; c = amount.charCodeAt(++i) - 48) whole = whole * 10 + c;
  if (i === from) return { ok: false, reason: 'syntax' };
  let frac = 0;
  let digits = 0;
  let tooPrecise = false;
  if (i < n) {
    if (amount.charCodeAt(i) !== 46) return { ok: false, reason: 'syntax' };
    const start = ++i;
    for (let c = amount.charCodeAt(i) - 48; c >= 0 && c <= 9; c = amount.charCodeAt(++i) - 48) {
      if (digits < exponent) {
        frac = frac * 10 + c;
        digits++;
      } else if (c !== 0) tooPrecise = true;
    }
    if (i === start || i !== n) return { ok: false, reason: 'syntax' };
  }
  if (tooPrecise) return { ok: false, reason: 'decimals' };
  const v = whole * POW10[exponent]! + frac * POW10[exponent - digits]!;
  if (!Number.isSafeInteger(v)) return { ok: false, reason: 'range' };
  return { ok: true, minor: negative ? -v : v };
}

/** 450 at exponent 2 → "4.50", 500 at exponent 0 → "500" (the inverse of toMinorUnits). */
export function fromMinorUnits(minor: number, exponent: number): string {
  const sign = minor < 0 ? '-' : '';
  const digits = String(Math.abs(minor)).padStart(exponent + 1, '0');
  return exponent === 0 ? sign + digits : `${sign}${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function civilFromDays(z: number): { y: number; m: number; d: number } {
  z += 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const y = yoe + era * 400;
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp + (mp < 10 ? 3 : -9);
  return { y: y + (m <= 2 ? 1 : 0), m, d };
}

export function isLeapYear(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

export function daysInMonth(y: number, m: number): number {
  return m === 2 ? (isLeapYear(y) ? 29 : 28) : [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]!;
}

function digits2(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

export interface CivilDate {
  readonly y: number;
  readonly m: number;
  readonly d: number;
}

/** The one reader of dates: `YYYY-MM-DD` → its parts; null when it is not
 * that shape or not a real date (2026-02-30). */
export function parseDateParts(raw: string): CivilDate | null {
  if (raw.length !== 10 || raw.charCodeAt(4) !== 45 || raw.charCodeAt(7) !== 45) return null;
  const yh = digits2(raw, 0);
  const yl = digits2(raw, 2);
  const m = digits2(raw, 5);
  const d = digits2(raw, 8);
  if (yh < 0 || yl < 0 || m < 0 || d < 0) return null;
  const y = yh * 100 + yl;
  if (m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m)) return null;
  return { y, m, d };
}

/** "2026-12-01" → day number; null for impossible dates such as 2026-02-30. */
export function parseDate(raw: string): number | null {
  const p = parseDateParts(raw);
  return p === null ? null : daysFromCivil(p.y, p.m, p.d);
}

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

export type InstantResult = { ok: true; ms: number } | { ok: false; error: string };

/**
 * The one reader of instants: `YYYY-MM-DDTHH:MM[:SS[.fff]](Z|±HH:MM)` →
 * epoch milliseconds (fractions below a millisecond are dropped). The
 * error completes a sentence that names the field ("field \"at\" has no
 * UTC offset"). Events, the server's arguments and the decoders read
 * instants here.
 */
export function parseInstant(text: string): InstantResult {
  const n = text.length;
  // The shape first (any digits where digits go), then the ranges.
  if (n < 16 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(10) !== 84 || text.charCodeAt(13) !== 58) return NOT_AN_INSTANT;
  const yh = digits2(text, 0);
  const yl = digits2(text, 2);
  const mo = digits2(text, 5);
  const d = digits2(text, 8);
  const h = digits2(text, 11);
  const mi = digits2(text, 14);
  if (yh < 0 || yl < 0 || mo < 0 || d < 0 || h < 0 || mi < 0) return NOT_AN_INSTANT;
  let i = 16;
  let sec = 0;
  let frac = 0;
  if (text.charCodeAt(i) === 58) {
    sec = digits2(text, 17);
    if (sec < 0) return NOT_AN_INSTANT;
    i = 19;
    if (text.charCodeAt(i) === 46) {
      const from = ++i;
      let scale = 100;
      for (let c = text.charCodeAt(i) - 48; c >= 0 && c <= 9; c = text.charCodeAt(++i) - 48) {
        frac += c * scale;
        scale /= 10;
      }
      if (i === from) return NOT_AN_INSTANT;
      frac = Math.floor(frac + 1e-9);
    }
  }
  let sign = 0;
  let oh = 0;
  let om = 0;
  const z = text.charCodeAt(i);
  if (i === n) sign = 0;
  else if (z === 90 && i === n - 1) sign = 1;
  else if ((z === 43 || z === 45) && n === i + 6 && text.charCodeAt(i + 3) === 58) {
    oh = digits2(text, i + 1);
    om = digits2(text, i + 4);
    if (oh < 0 || om < 0) return NOT_AN_INSTANT;
    sign = z === 45 ? -1 : 1;
  } else return NOT_AN_INSTANT;
  if (sign === 0) return { ok: false, error: 'has no UTC offset' };
  const y = yh * 100 + yl;
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || sec > 59) return { ok: false, error: 'is not a valid date and time' };
  if (oh > 23 || om > 59) return { ok: false, error: 'has an invalid UTC offset' };
  const offset = sign * (oh * HOUR_MS + om * MINUTE_MS);
  return { ok: true, ms: daysFromCivil(y, mo, d) * DAY_MS + h * HOUR_MS + mi * MINUTE_MS + sec * 1000 + frac - offset };
}

const NOT_AN_INSTANT: InstantResult = { ok: false, error: 'must be a time such as "2026-03-01T09:30:00Z"' };

/** "14:00" → 840 minutes; "24:00" → 1440; null for impossible times. */
export function parseTimeOfDay(raw: string): number | null {
  const m = /^(\d{1,2}):(\d{2})$/.exec(raw);
  if (!m) return null;
  const h = Number(m[1]);
  const min = Number(m[2]);
  if (min > 59 || h > 24 || (h === 24 && min !== 0)) return null;
  return h * 60 + min;
}

export const WEEKDAY_INDEX: Record<string, number> = { mon: 0, tue: 1, wed: 2, thu: 3, fri: 4, sat: 5, sun: 6 };

export type DurationUnit = 'day' | 'week' | 'month' | 'year';
export function durationUnit(word: string): DurationUnit {
  return word.replace(/s$/, '') as DurationUnit;
}

/** Whether `name` is an IANA time zone this runtime knows. */
export function isTimeZone(name: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(name)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

let zoneNames: string[] | undefined;
export function timeZoneNames(): string[] {
  zoneNames ??= [...Intl.supportedValuesOf('timeZone'), 'UTC'];
  return zoneNames;
}
