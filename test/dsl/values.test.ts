// One reader per format (dsl/values.ts): instants, money and dates, checked
// against independent references (Date.parse, BigInt arithmetic, Date.UTC),
// and the callers (event decoder, language) shown to give the same answers.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compile } from '../../dsl/index.ts';
import { parseDate, parseDateParts, parseInstant, toMinorUnits } from '../../dsl/values.ts';
import { parseEvent, parseMoney } from '../../src/engine/events.ts';
import { FastLineParser } from '../../src/engine/jsonl.ts';

const PROGRAM = 'program "p" {\n  currency USD\n  timezone "UTC"\n  base 1 point per 1 USD\n}\n';

const digits = (min: number, max: number) => fc.array(fc.integer({ min: 0, max: 9 }), { minLength: min, maxLength: max }).map((d) => d.join(''));

/** The reference: exact decimal arithmetic in BigInt. */
function referenceMinor(text: string, exponent: number): { ok: true; minor: number } | { ok: false; reason: string } {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) return { ok: false, reason: 'syntax' };
  const frac = m[3] ?? '';
  if (/[1-9]/.test(frac.slice(exponent))) return { ok: false, reason: 'decimals' };
  const v = BigInt(m[2]! + frac.slice(0, exponent).padEnd(exponent, '0'));
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) return { ok: false, reason: 'range' };
  return { ok: true, minor: m[1] ? -Number(v) : Number(v) };
}

describe('toMinorUnits', () => {
  it('agrees with exact decimal arithmetic on any decimal string', () => {
    fc.assert(
      fc.property(fc.boolean(), digits(1, 18), fc.option(digits(0, 6)), fc.constantFrom(0, 2, 3), (neg, whole, frac, exponent) => {
        const text = `${neg ? '-' : ''}${whole}${frac === null ? '' : '.' + frac}`;
        expect(toMinorUnits(text, exponent)).toEqual(referenceMinor(text, exponent));
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses what is not a plain decimal as syntax', () => {
    for (const bad of ['', '-', '.5', '4.', '4.5.0', '1,500', '+4', '4e2', ' 4', '4 ', '0x10', '--1']) {
      expect(toMinorUnits(bad, 2), JSON.stringify(bad)).toEqual({ ok: false, reason: 'syntax' });
    }
  });

  it('keeps trailing zeros beyond the exponent and refuses other digits there', () => {
    expect(toMinorUnits('500.0', 0)).toEqual({ ok: true, minor: 500 });
    expect(toMinorUnits('4.500', 2)).toEqual({ ok: true, minor: 450 });
    expect(toMinorUnits('4.501', 2)).toEqual({ ok: false, reason: 'decimals' });
    expect(toMinorUnits('4.501x', 2)).toEqual({ ok: false, reason: 'syntax' });
  });

  it('is what events read: the same strings give the same minor units, or the error says why', () => {
    const usd = compile(PROGRAM, 'p.loyalty');
    expect(usd.diagnostics).toEqual([]);
    const program = usd.program!;
    expect(parseMoney(program, '12.30')).toEqual({ ok: true, minor: 1230 });
    expect(parseMoney(program, '12.301')).toEqual({ ok: false, error: 'amount 12.301 has more decimals than USD allows' });
    expect(parseMoney(program, '-1.00')).toEqual({ ok: false, error: 'amount must be a decimal string such as "4.50"' });
    expect(parseMoney(program, '99999999999999999')).toEqual({ ok: false, error: 'amount 99999999999999999 is too large' });
    expect(parseMoney(program, 4.5)).toEqual({ ok: false, error: 'amount must be a decimal string such as "4.50"' });
  });
});

describe('parseInstant', () => {
  const instant = fc.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(2200, 0, 1) });
  const offset = fc.tuple(fc.constantFrom('+', '-'), fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }));
  const two = (n: number) => String(n).padStart(2, '0');

  it('reads every form the spec allows as Date.parse does', () => {
    fc.assert(
      fc.property(instant, fc.constantFrom(16, 19, 23), fc.option(offset), (ms, len, off) => {
        const base = new Date(ms).toISOString().slice(0, len);
        const text = base + (off === null ? 'Z' : `${off[0]}${two(off[1])}:${two(off[2])}`);
        expect(parseInstant(text)).toEqual({ ok: true, ms: Date.parse(text) });
      }),
      { numRuns: 2000 },
    );
  });

  it('drops fractions below a millisecond and reads short fractions as tenths', () => {
    expect(parseInstant('2026-03-01T09:30:00.123456Z')).toEqual({ ok: true, ms: Date.parse('2026-03-01T09:30:00.123Z') });
    expect(parseInstant('2026-03-01T09:30:00.5Z')).toEqual({ ok: true, ms: Date.parse('2026-03-01T09:30:00.500Z') });
  });

  it('says what is wrong, in the order shape, offset, date, offset range', () => {
    const shape = { ok: false, error: 'must be a time such as "2026-03-01T09:30:00Z"' };
    for (const bad of ['', '2026-03-01', '2026-03-01 09:30Z', '2026-03-01T9:30Z', '2026-03-01T09:30:5Z', '2026-03-01T09:30:00.Z', '2026-03-01T09:30+0530', '2026-03-01T09:30:00z', '2026-03-01T09:30:00ZZ', '2026-03-01T09:30:00+05:3x']) {
      expect(parseInstant(bad), bad).toEqual(shape);
    }
    expect(parseInstant('2026-03-01T09:30')).toEqual({ ok: false, error: 'has no UTC offset' });
    expect(parseInstant('2026-02-30T09:30')).toEqual({ ok: false, error: 'has no UTC offset' });
    for (const bad of ['2026-02-29T10:00Z', '2026-13-01T10:00Z', '2026-03-00T10:00Z', '2026-03-01T24:00Z', '2026-03-01T10:60Z', '2026-03-01T10:00:60Z']) {
      expect(parseInstant(bad), bad).toEqual({ ok: false, error: 'is not a valid date and time' });
    }
    expect(parseInstant('2026-03-01T10:00+24:00')).toEqual({ ok: false, error: 'has an invalid UTC offset' });
    expect(parseInstant('2026-03-01T10:00-05:60')).toEqual({ ok: false, error: 'has an invalid UTC offset' });
  });

  it('is what events read', () => {
    const program = compile(PROGRAM, 'p.loyalty').program!;
    expect(parseEvent(program, { type: 'tick', at: '2026-03-01T09:30:00.250+01:00' })).toEqual({ event: { type: 'tick', at: Date.parse('2026-03-01T08:30:00.250Z') } });
    expect(parseEvent(program, { type: 'tick', at: '2026-03-01T09:30' })).toEqual({ error: 'field "at" has no UTC offset' });
  });
});

describe('parseDateParts / parseDate', () => {
  it('reads every real date and refuses every impossible one, as Date.UTC decides', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 }), (y, m, d) => {
        const text = `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
        const utc = new Date(0);
        utc.setUTCFullYear(y, m - 1, d);
        const real = m >= 1 && m <= 12 && d >= 1 && utc.getUTCMonth() === m - 1 && utc.getUTCDate() === d;
        expect(parseDateParts(text)).toEqual(real ? { y, m, d } : null);
        if (real) {
          utc.setUTCHours(0, 0, 0, 0);
          expect(parseDate(text)).toBe(utc.getTime() / 86_400_000);
        } else expect(parseDate(text)).toBeNull();
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses other shapes', () => {
    for (const bad of ['2026-3-01', '2026-03-1', '26-03-01', '2026/03/01', '2026-03-01T00:00Z', ' 2026-03-01', '2026-03-0a']) {
      expect(parseDateParts(bad), bad).toBeNull();
    }
  });
});

describe('the byte decoder (src/engine/jsonl.ts) reads values with the same readers', () => {
  const decode = (line: string) => new FastLineParser(2).parse(Buffer.from(line), 0, Buffer.byteLength(line));
  const order = (at: string, price: string) => JSON.stringify({ type: 'order', at, member: 'm', id: 'o1', lines: [{ sku: 'S', category: 'c', qty: 1, price }] });

  it('gives what the readers give for what they accept', () => {
    const ev = decode(order('2026-03-01T09:30:00.5-05:00', '007.50'));
    expect(ev).toMatchObject({ at: (parseInstant('2026-03-01T09:30:00.5-05:00') as { ms: number }).ms, lines: [{ price: 750 }] });
  });

  it('leaves what they refuse (and negative money, which events never carry) to the general path', () => {
    for (const [at, price] of [['2026-03-01T09:30', '1.00'], ['2026-02-30T09:30Z', '1.00'], ['2026-03-01T09:30Z', '-1.00'], ['2026-03-01T09:30Z', '1.001'], ['2026-03-01T09:30Z', '1e2']]) {
      expect(decode(order(at!, price!)), `${at} ${price}`).toBeNull();
    }
  });
});
