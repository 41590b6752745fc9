// The zone arithmetic against Temporal itself (temporal-polyfill), which the
// spec names for wall-clock durations and `compatible` disambiguation.
import fc from 'fast-check';
import { Temporal } from 'temporal-polyfill';
import { describe, expect, it } from 'vitest';
import { formatInstant, parseInstant, Zone } from '../../src/engine/time.ts';

const ZONES = ['UTC', 'America/New_York', 'Europe/London', 'Australia/Sydney', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'America/Santiago', 'Pacific/Chatham', 'Asia/Tokyo', 'America/Phoenix'];
const instant = fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2040, 0, 1) });
const units = ['day', 'week', 'month', 'year'] as const;

function temporalAdd(ms: number, zone: string, amount: number, unit: (typeof units)[number]): number {
  const z = Temporal.Instant.fromEpochMilliseconds(ms).toZonedDateTimeISO(zone);
  const key = `${unit}s` as 'days' | 'weeks' | 'months' | 'years';
  return z.add({ [key]: amount }).epochMilliseconds;
}

describe('Zone', () => {
  it('gives the offset Temporal gives, at any instant', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), instant, (zone, ms) => {
        const expected = Temporal.Instant.fromEpochMilliseconds(ms).toZonedDateTimeISO(zone).offsetNanoseconds / 1e6;
        expect(new Zone(zone).offset(ms)).toBe(expected);
      }),
      { numRuns: 400 },
    );
  });

  it('adds durations on the local wall clock exactly as Temporal does', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), instant, fc.integer({ min: 0, max: 40 }), fc.constantFrom(...units), (zone, ms, n, unit) => {
        expect(new Zone(zone).add(ms, { amount: n, unit })).toBe(temporalAdd(ms, zone, n, unit));
      }),
      { numRuns: 1000 },
    );
  });

  it('resolves local times like Temporal with disambiguation "compatible" (gaps and repeats)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), instant, (zone, ms) => {
        // Any local wall time, including ones in DST gaps and overlaps.
        const local = Math.floor(ms / 60_000) * 60_000;
        const d = new Date(local);
        const pdt = Temporal.PlainDateTime.from({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes() });
        const expected = pdt.toZonedDateTime(zone, { disambiguation: 'compatible' }).epochMilliseconds;
        expect(new Zone(zone).fromLocal(local)).toBe(expected);
      }),
      { numRuns: 1000 },
    );
  });

  it('handles the New York DST changes of 2026 as the spec describes', () => {
    const ny = new Zone('America/New_York');
    // 02:30 on 8 March does not exist: it moves on by the gap to 03:30 EDT.
    expect(formatInstant(ny.fromLocal(Date.UTC(2026, 2, 8, 2, 30)))).toBe('2026-03-08T07:30:00Z');
    // 01:30 on 1 November happens twice: the earlier instant (EDT).
    expect(formatInstant(ny.fromLocal(Date.UTC(2026, 10, 1, 1, 30)))).toBe('2026-11-01T05:30:00Z');
    // 30 days from 10 Apr 08:00 EDT is 10 May 08:00 EDT; a day across the spring change keeps 09:00.
    expect(formatInstant(ny.add(Date.parse('2026-03-07T14:00:00Z'), { amount: 1, unit: 'day' }))).toBe('2026-03-08T13:00:00Z');
    // Months clamp: 31 Jan + 1 month = 28 Feb; 29 Feb + 1 year = 28 Feb.
    expect(formatInstant(ny.add(Date.parse('2026-01-31T17:00:00Z'), { amount: 1, unit: 'month' }))).toBe('2026-02-28T17:00:00Z');
    expect(formatInstant(ny.add(Date.parse('2028-02-29T17:00:00Z'), { amount: 1, unit: 'year' }))).toBe('2029-02-28T17:00:00Z');
  });

  it('keeps the instant when adding nothing, even in a repeated hour (as Temporal does)', () => {
    const ny = new Zone('America/New_York');
    const secondOneAm = Date.parse('2000-10-29T06:00:00Z'); // 01:00 EST, after 01:00 EDT
    expect(ny.add(secondOneAm, { amount: 0, unit: 'day' })).toBe(secondOneAm);
    expect(ny.add(secondOneAm, { amount: 0, unit: 'day' })).toBe(temporalAdd(secondOneAm, 'America/New_York', 0, 'day'));
  });

  it('puts a 29 February birthday on 28 February in other years', () => {
    const ny = new Zone('America/New_York');
    expect(formatInstant(ny.birthdayIn(2027, 2, 29))).toBe('2027-02-28T05:00:00Z');
    expect(formatInstant(ny.birthdayIn(2028, 2, 29))).toBe('2028-02-29T05:00:00Z');
  });
});

describe('instants', () => {
  it('parses every accepted form to what Date.parse gives, and formats back', () => {
    fc.assert(
      fc.property(instant, fc.constantFrom('Z', '+05:30', '-04:00', '+00:00'), fc.boolean(), (ms, zone, seconds) => {
        const whole = Math.floor(ms / 60_000) * 60_000;
        const iso = new Date(whole).toISOString();
        const text = iso.slice(0, seconds ? 19 : 16) + 'Z';
        expect(parseInstant(text)).toEqual({ ok: true, ms: whole });
        const shifted = text.slice(0, -1) + zone;
        expect(parseInstant(shifted)).toEqual({ ok: true, ms: Date.parse(shifted) });
        expect(formatInstant(whole)).toBe(iso.slice(0, 19) + 'Z');
      }),
    );
  });

  it('refuses other ISO 8601 forms with a reason', () => {
    expect(parseInstant('2026-03-01T09:30:00')).toEqual({ ok: false, error: 'has no UTC offset' });
    for (const bad of ['2026-03-01 09:30:00Z', '2026-02-29T10:00:00Z', '2026-03-01T24:00:00Z', '20260301T093000Z', '2026-03-01T09:30:00+0530', '2026-03-01t09:30:00z']) {
      const r = parseInstant(bad);
      expect(r.ok, bad).toBe(false);
    }
    expect(parseInstant('2026-03-01T09:30:00.123456Z')).toEqual({ ok: true, ms: Date.parse('2026-03-01T09:30:00.123Z') });
  });
});
