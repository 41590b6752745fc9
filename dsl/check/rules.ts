// dsl.md 3, earn rules (2.2) and event bonuses (2.3): names, one effect and
// one limit, valid dates, days and hours, a `when` that is a condition, and
// warnings for rules that can never apply.
import type * as A from '../ast.ts';
import { parseDate, parseInteger, WEEKDAY_INDEX } from '../values.ts';
import type { CheckContext } from './context.ts';
import { checkCondition } from './expressions.ts';
import { dateOf, limit, multiplier, points, rate, timeOf } from './literals.ts';

export function checkRule(ctx: CheckContext, r: A.RuleDecl): void {
  ctx.declareName(ctx.ruleNames, 'rule', r.name, r.loc);
  if (r.name.text.trim() === '') ctx.report('E060', r.name.loc, 'a rule needs a name');
  const effects = r.body.filter((s) => s.kind === 'multiplier' || s.kind === 'extra' || s.kind === 'bonus');
  if (effects.length === 0) ctx.report('E040', r.name.loc, `rule ${r.name.raw} has no effect`, 'add one of: multiplier 2x, extra 1 point per 1 USD, bonus 50 points');
  for (const e of effects.slice(1)) ctx.report('E041', e.loc, `rule ${r.name.raw} has more than one effect (the first is on line ${effects[0]!.loc.line})`, 'split it into two rules');
  const limits = r.body.filter((s) => s.kind === 'limit');
  for (const l of limits.slice(1)) ctx.report('E045', l.loc, `rule ${r.name.raw} has more than one limit`, 'keep one limit per rule');
  const ranges: [number, number][] = [];
  let dayMask = 0x7f;
  for (const s of r.body) {
    switch (s.kind) {
      case 'multiplier':
        multiplier(ctx, s);
        if (!ctx.hasBase) ctx.report('W002', s.loc, `rule ${r.name.raw} multiplies the base, but the program has no base earning`, 'add a setting such as `base 1 point per 1 USD`, or use extra');
        break;
      case 'extra':
        rate(ctx, s.rate, 'extra');
        break;
      case 'bonus':
        points(ctx, s.points, 'a bonus');
        break;
      case 'limit':
        limit(ctx, s);
        break;
      case 'during': {
        const a = dateOf(ctx, s.from);
        const b = dateOf(ctx, s.to);
        if (a !== null && b !== null) {
          if (b < a) ctx.report('E030', s.loc, `date range ends (${s.to.text}) before it starts (${s.from.text})`, 'write the earlier date first');
          else ranges.push([a, b]);
        }
        break;
      }
      case 'days': {
        let mask = 0;
        for (const d of s.days) mask |= 1 << WEEKDAY_INDEX[d.text]!;
        dayMask &= mask;
        break;
      }
      case 'hours': {
        const a = timeOf(ctx, s.from, false);
        const b = timeOf(ctx, s.to, true);
        if (a !== null && b !== null && b <= a) ctx.report('E032', s.loc, `hours end (${s.to.text}) is not after the start (${s.from.text})`, 'ranges cannot cross midnight; end a range at 24:00 and start another at 00:00 in a second rule');
        break;
      }
      case 'when':
        checkCondition(ctx, s.expr, `compare it, e.g. when order.total >= 20 ${ctx.exampleCurrency}`);
        break;
      case 'filter':
        break;
    }
  }
  // Warnings: rules that can never apply.
  if (ranges.length) {
    const from = Math.max(...ranges.map((x) => x[0]));
    const to = Math.min(...ranges.map((x) => x[1]));
    const asOf = ctx.opts.asOf ? parseDate(ctx.opts.asOf) : null;
    if (from > to) ctx.report('W001', r.name.loc, `rule ${r.name.raw} can never apply: its date ranges do not overlap`);
    else if (asOf !== null && to < asOf) ctx.report('W001', r.name.loc, `rule ${r.name.raw} can never apply: its date range ended before ${ctx.opts.asOf}`, 'remove the rule or move its dates');
  }
  if (dayMask === 0) ctx.report('W001', r.name.loc, `rule ${r.name.raw} can never apply: its days conditions have no day in common`);
  for (const l of limits) if (l.amount && parseInteger(l.amount.raw) === 0) ctx.report('W001', l.loc, `rule ${r.name.raw} can never apply: its limit is 0`);
  for (const target of ['category', 'sku'] as const) {
    const includes = r.body.filter((s): s is A.FilterNode => s.kind === 'filter' && s.target === target && !s.exclude);
    if (includes.length && includes.every((f) => f.values.every((v) => ctx.programExcludes[target].has(v.text))))
      ctx.report('W003', includes[0]!.loc, `rule ${r.name.raw} can never apply: every ${target} it looks at is excluded program-wide`);
  }
}

export function checkOn(ctx: CheckContext, o: A.OnDecl): void {
  const key = o.trigger === 'event' ? null : o.trigger;
  if (key) {
    const prev = ctx.once.get('on ' + key);
    if (prev) ctx.report('E014', o.loc, `on ${key} is given twice (first on line ${prev.line})`, 'merge them into one');
    else ctx.once.set('on ' + key, o.loc);
  } else if (o.event) {
    const prev = ctx.eventNames.get(o.event.text);
    if (prev) ctx.report('E015', o.event.loc, `on event ${o.event.raw} is given twice (first on line ${prev.line})`);
    else ctx.eventNames.set(o.event.text, o.loc);
  }
  const bonuses = o.body.filter((s) => s.kind === 'bonus');
  const limits = o.body.filter((s) => s.kind === 'limit');
  if (bonuses.length === 0) ctx.report('E060', o.triggerLoc, `on ${o.trigger} has no bonus`, 'add a bonus such as `bonus 100 points`');
  for (const b of bonuses.slice(1)) ctx.report('E061', b.loc, `on ${o.trigger} has more than one bonus`);
  for (const b of bonuses) {
    points(ctx, b.points, 'a bonus');
    if (b.perItem) ctx.report('E046', b.loc, '`per item` applies to orders; an event bonus is a flat number of points');
  }
  for (const l of limits) {
    if (o.trigger !== 'event') ctx.report('E046', l.loc, `on ${o.trigger} takes no limit`, o.trigger === 'birthday' ? 'a birthday bonus is awarded once a year' : 'a signup happens once per member');
    else if (l.period.text === 'order') ctx.report('E046', l.period.loc, 'an event bonus cannot be limited per order', 'use per day, week, month, year or member');
    limit(ctx, l);
  }
  for (const l of limits.slice(1)) ctx.report('E045', l.loc, 'more than one limit');
}
