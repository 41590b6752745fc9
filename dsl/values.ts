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

export type MinorResult = { ok: true; minor: number } | { ok: false; reason: 'decimals' | 'range' };

/** "4.50" at exponent 2 → 450. Refuses more decimals than the currency has. */
export function toMinorUnits(amount: string, exponent: number): MinorResult {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(amount);
  if (!m) return { ok: false, reason: 'range' };
  let frac = m[3] ?? '';
  // Trailing zeros beyond the exponent are harmless: "500.0" JPY is 500.
  while (frac.length > exponent && frac.endsWith('0')) frac = frac.slice(0, -1);
  if (frac.length > exponent) return { ok: false, reason: 'decimals' };
  const v = Number(m[2]! + frac.padEnd(exponent, '0'));
  if (!Number.isSafeInteger(v)) return { ok: false, reason: 'range' };
  return { ok: true, minor: m[1] ? -v : v };
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

/** "2026-12-01" → day number; null for impossible dates such as 2026-02-30. */
export function parseDate(raw: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(raw);
  if (!m) return null;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return null;
  return daysFromCivil(y, mo, d);
}

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
