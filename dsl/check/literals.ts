// Literal values inside any section (dsl.md 3): money in the program
// currency, whole points and counts, exact decimals, durations, multipliers,
// percentages, rates, limits, dates, times of day, and the discounts of a
// tier or club. Each reports what is wrong and returns the value (or null).
import type * as A from '../ast.ts';
import { COMMON_CURRENCIES, CURRENCIES, currencyExponent } from '../currencies.ts';
import { closest } from '../diagnostics.ts';
import { isNegative, parseDate, parseDecimal, parseInteger, parseTimeOfDay, toMinorUnits } from '../values.ts';
import type { CheckContext } from './context.ts';

/** Checks a money literal; returns minor units when valid. */
export function money(ctx: CheckContext, m: A.MoneyNode, what: string): number | null {
  let bad = false;
  if (isNegative(m.amount)) {
    ctx.report('E043', m.loc, `${what} cannot be negative`);
    bad = true;
  }
  if (!CURRENCIES.has(m.currency)) {
    const hint = closest(m.currency, CURRENCIES, COMMON_CURRENCIES);
    ctx.report('E012', m.loc, `unknown currency code "${m.currency}"`, hint ? `did you mean "${hint}"?` : undefined);
    return null;
  }
  if (ctx.currency && ctx.currencyOk && m.currency !== ctx.currency) {
    ctx.report('E011', m.loc, `${m.raw} is not in the program currency ${ctx.currency}`, `write the amount in ${ctx.currency}`);
    return null;
  }
  const r = toMinorUnits(m.amount.replace(/^-/, ''), currencyExponent(m.currency));
  if (!r.ok) {
    if (r.reason === 'decimals') {
      const e = currencyExponent(m.currency);
      ctx.report('E018', m.loc, `${m.raw} has more decimals than ${m.currency} allows (${e})`, e === 0 ? `${m.currency} has no minor unit: use a whole amount` : undefined);
    } else ctx.report('E018', m.loc, `${m.raw} is out of range`);
    return null;
  }
  return bad ? null : r.minor;
}

/** A whole, non-negative count of points. */
export function points(ctx: CheckContext, n: A.Num, what: string): number | null {
  if (isNegative(n.raw)) {
    ctx.report('E043', n.loc, `${what} cannot be negative points`);
    return null;
  }
  const v = parseInteger(n.raw);
  if (v === null) {
    ctx.report('E047', n.loc, `${what} must be a whole number of points, not ${n.raw}`);
    return null;
  }
  return v;
}

export function count(ctx: CheckContext, n: A.Num, what: string): number | null {
  if (isNegative(n.raw)) {
    ctx.report('E043', n.loc, `${what} cannot be negative`);
    return null;
  }
  const v = parseInteger(n.raw);
  if (v === null) ctx.report('E047', n.loc, `${what} must be a whole number, not ${n.raw}`);
  return v;
}

/** A decimal the compiler can hold exactly (at most 9 decimals, below 2^53). */
export function decimal(ctx: CheckContext, n: A.Num, what: string): boolean {
  if (parseDecimal(n.raw) !== null) return true;
  ctx.report('E048', n.loc, `${what} ${n.raw} is too large or too precise`, 'use at most 9 decimals and fewer than 16 digits');
  return false;
}

export function duration(ctx: CheckContext, d: A.DurationNode, what: string, hint?: string): void {
  const v = count(ctx, d.amount, what);
  if (v === 0) ctx.report('E062', d.loc, `${what} cannot be 0 ${d.unit.text}`, hint);
}

export function multiplier(ctx: CheckContext, m: A.MultiplierNode): void {
  if (!decimal(ctx, m.factor, 'the multiplier')) return;
  const r = parseDecimal(m.factor.raw);
  if (!r || r.n < r.d) ctx.report('E042', m.factor.loc, `multiplier ${m.factor.raw}x is below 1x`, 'a multiplier of k gives k times the base points; use extra or bonus for smaller amounts');
}

export function percent(ctx: CheckContext, p: A.Num, what: string, hint?: string): void {
  const r = parseDecimal(p.raw);
  if (isNegative(p.raw)) ctx.report('E043', p.loc, `${what} cannot be negative`, hint);
  else if (!decimal(ctx, p, what)) return;
  else if (r && r.n > 100 * r.d) ctx.report('E044', p.loc, `${what} ${p.raw}% is above 100%`, hint);
}

/** The discounts of one tier or club (2.4, 2.5): each percentage checked,
 * and a warning for a discount that can never be the largest on any line
 * (another discount of the same block covers all its lines with as much). */
export function discounts(ctx: CheckContext, body: readonly { kind: string }[], owner: string): void {
  const ds = body.filter((s): s is A.DiscountNode => s.kind === 'discount');
  for (const d of ds) percent(ctx, d.percent, 'a discount', 'a discount takes between 0% and 100% off a line, for example `discount 10% on category "beans"`');
  const value = (d: A.DiscountNode) => parseDecimal(d.percent.raw);
  ds.forEach((d, i) => {
    const v = value(d);
    if (!v || isNegative(d.percent.raw) || v.n > 100 * v.d) return;
    if (v.n === 0) {
      ctx.report('W004', d.loc, `${owner} has a discount of ${d.percent.raw}%, which takes nothing off`, 'remove it, or give it a percentage above 0%');
      return;
    }
    const covers = (o: A.DiscountNode) => o.everything !== null || (d.everything === null && d.categories.every((c) => o.categories.some((x) => x.text === c.text)));
    const shadow = ds.find((o, j) => {
      if (j === i || !covers(o)) return false;
      const w = value(o);
      if (!w || isNegative(o.percent.raw) || w.n > 100 * w.d) return false;
      const cmp = w.n * v.d - v.n * w.d;
      // An equal discount covering the same lines shadows only the later one.
      return cmp > 0 || (cmp === 0 && (j < i || !sameLines(o, d)));
    });
    if (shadow)
      ctx.report('W004', d.loc, `${owner}: discount ${d.percent.raw}% never applies: discount ${shadow.percent.raw}% on line ${shadow.loc.line} covers the same lines`, 'only the largest discount applies to a line; remove this one or raise it');
  });
}

function sameLines(a: A.DiscountNode, b: A.DiscountNode): boolean {
  if (a.everything !== null || b.everything !== null) return a.everything !== null && b.everything !== null;
  const sa = new Set(a.categories.map((c) => c.text));
  const sb = new Set(b.categories.map((c) => c.text));
  return sa.size === sb.size && [...sa].every((c) => sb.has(c));
}

export function rate(ctx: CheckContext, r: A.RateNode, what: string): void {
  if (isNegative(r.points.raw)) ctx.report('E043', r.points.loc, `${what} cannot be negative points`);
  else decimal(ctx, r.points, `${what} of`);
  const per = money(ctx, r.per, 'the amount of a rate');
  if (per === 0) ctx.report('E016', r.per.loc, `${what} is per ${r.per.raw}: a rate cannot be per 0`, 'for example `1 point per 1 USD`');
}

export function limit(ctx: CheckContext, l: A.LimitNode): void {
  if (l.amount) {
    if (l.unit === 'points') points(ctx, l.amount, 'a limit');
    else count(ctx, l.amount, 'a limit');
  }
}

export function dateOf(ctx: CheckContext, w: A.Word): number | null {
  const d = parseDate(w.text);
  if (d === null) ctx.report('E031', w.loc, `${w.text} is not a valid date`, 'dates are YYYY-MM-DD and must exist in the calendar');
  return d;
}

export function timeOf(ctx: CheckContext, w: A.Word, end: boolean): number | null {
  const t = parseTimeOfDay(w.text);
  if (t === null || (!end && t === 1440)) {
    ctx.report('E033', w.loc, `${w.text} is not a valid time of day`, end ? 'times are HH:MM from 00:00 to 24:00' : 'a range starts between 00:00 and 23:59');
    return null;
  }
  return t;
}
