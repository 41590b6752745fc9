// Stage 4: the checker. Walks the AST once and reports every error of
// dsl.md section 3 it can find (not only the first), plus warnings.
import type * as A from './ast.ts';
import { COMMON_CURRENCIES, CURRENCIES, currencyExponent } from './currencies.ts';
import { BLOCKS } from './parser.ts';
import { closest, diagnostic, type Diagnostic } from './diagnostics.ts';
import { isNegative, isTimeZone, parseDate, parseDecimal, parseInteger, parseTimeOfDay, timeZoneNames, toMinorUnits, WEEKDAY_INDEX } from './values.ts';

export interface CheckOptions {
  /** `YYYY-MM-DD`: a rule whose every date range ends before it can never apply (W001). */
  asOf?: string;
}

type MetricName = 'spend' | 'points' | 'orders';

export function check(ast: A.ProgramAst, file: string, opts: CheckOptions = {}): Diagnostic[] {
  const out: Diagnostic[] = [];
  const err = (code: string, loc: A.Loc, message: string, hint?: string) =>
    out.push(diagnostic(code, file, loc.line, loc.column, message, { endLine: loc.endLine, endColumn: loc.endColumn, hint }));

  // --- settings -------------------------------------------------------------
  const seen = new Map<string, A.Loc>();
  let sawSection: A.Loc | null = null;
  let currency: string | null = null;
  let currencyOk = false;
  for (const u of ast.unknown) {
    const block = BLOCKS[u.block];
    const hint = block ? closest(u.word.text, block.words) : undefined;
    err('E004', u.word.loc, `unknown keyword "${u.word.text}"`, hint ? `did you mean "${hint}"?` : block ? `expected ${block.what}` : undefined);
  }
  for (const item of ast.items) {
    const key = settingKey(item);
    if (key === null) {
      sawSection ??= item.loc;
      continue;
    }
    if (sawSection) err('E017', item.loc, `setting "${key}" comes after a section`, 'move every setting above the first rule or section');
    const prev = seen.get(key);
    if (prev) err('E013', item.loc, `setting "${key}" is given twice (first on line ${prev.line})`, 'keep one of them');
    else seen.set(key, item.loc);
    if (item.kind === 'currency' && !prev) {
      currency = item.code.text;
      if (!CURRENCIES.has(currency)) {
        const hint = closest(currency, CURRENCIES, COMMON_CURRENCIES);
        err('E012', item.code.loc, `unknown currency code "${currency}"`, hint ? `did you mean "${hint}"?` : 'use an ISO 4217 code such as USD, EUR or JPY');
      } else currencyOk = true;
    }
    if (item.kind === 'timezone' && !isTimeZone(item.value.text)) {
      const hint = closest(item.value.text, timeZoneNames());
      err('E019', item.value.loc, `unknown timezone "${item.value.text}"`, hint ? `did you mean "${hint}"?` : 'use an IANA zone name such as "America/New_York"');
    }
    if (item.kind === 'unit' && item.value.text.trim() === '') err('E060', item.value.loc, 'the points unit needs a name', 'for example unit "Beans"');
  }
  if (!seen.has('currency')) {
    const loc = ast.name?.loc ?? ast.loc;
    err('E010', loc, 'the program has no currency', 'add a setting such as `currency USD` at the top of the program');
  }
  const exponent = currencyOk && currency ? currencyExponent(currency) : null;

  // --- literal helpers --------------------------------------------------------
  /** Checks a money literal; returns minor units when valid. */
  const money = (m: A.MoneyNode, what: string): number | null => {
    let bad = false;
    if (isNegative(m.amount)) {
      err('E043', m.loc, `${what} cannot be negative`);
      bad = true;
    }
    if (!CURRENCIES.has(m.currency)) {
      const hint = closest(m.currency, CURRENCIES, COMMON_CURRENCIES);
      err('E012', m.loc, `unknown currency code "${m.currency}"`, hint ? `did you mean "${hint}"?` : undefined);
      return null;
    }
    if (currency && currencyOk && m.currency !== currency) {
      err('E011', m.loc, `${m.raw} is not in the program currency ${currency}`, `write the amount in ${currency}`);
      return null;
    }
    const r = toMinorUnits(m.amount.replace(/^-/, ''), currencyExponent(m.currency));
    if (!r.ok) {
      if (r.reason === 'decimals') {
        const e = currencyExponent(m.currency);
        err('E018', m.loc, `${m.raw} has more decimals than ${m.currency} allows (${e})`, e === 0 ? `${m.currency} has no minor unit: use a whole amount` : undefined);
      } else err('E018', m.loc, `${m.raw} is out of range`);
      return null;
    }
    return bad ? null : r.minor;
  };
  /** A whole, non-negative count of points. */
  const points = (n: A.Num, what: string): number | null => {
    if (isNegative(n.raw)) {
      err('E043', n.loc, `${what} cannot be negative points`);
      return null;
    }
    const v = parseInteger(n.raw);
    if (v === null) {
      err('E047', n.loc, `${what} must be a whole number of points, not ${n.raw}`);
      return null;
    }
    return v;
  };
  const count = (n: A.Num, what: string): number | null => {
    if (isNegative(n.raw)) {
      err('E043', n.loc, `${what} cannot be negative`);
      return null;
    }
    const v = parseInteger(n.raw);
    if (v === null) err('E047', n.loc, `${what} must be a whole number, not ${n.raw}`);
    return v;
  };
  /** A decimal the compiler can hold exactly (at most 9 decimals, below 2^53). */
  const decimal = (n: A.Num, what: string): boolean => {
    if (parseDecimal(n.raw) !== null) return true;
    err('E048', n.loc, `${what} ${n.raw} is too large or too precise`, 'use at most 9 decimals and fewer than 16 digits');
    return false;
  };
  const duration = (d: A.DurationNode, what: string, hint?: string) => {
    const v = count(d.amount, what);
    if (v === 0) err('E062', d.loc, `${what} cannot be 0 ${d.unit.text}`, hint);
  };
  // 2.1: points vest at least one unit after the order; without the setting they are written at once.
  for (const item of ast.items)
    if (item.kind === 'pending') duration(item.duration, 'pending', 'give at least 1 day (e.g. `pending 14 days`), or remove the setting to write points at the order');
  const multiplier = (m: A.MultiplierNode) => {
    if (!decimal(m.factor, 'the multiplier')) return;
    const r = parseDecimal(m.factor.raw);
    if (!r || r.n < r.d) err('E042', m.factor.loc, `multiplier ${m.factor.raw}x is below 1x`, 'a multiplier of k gives k times the base points; use extra or bonus for smaller amounts');
  };
  const percent = (p: A.Num, what: string, hint?: string) => {
    const r = parseDecimal(p.raw);
    if (isNegative(p.raw)) err('E043', p.loc, `${what} cannot be negative`, hint);
    else if (!decimal(p, what)) return;
    else if (r && r.n > 100 * r.d) err('E044', p.loc, `${what} ${p.raw}% is above 100%`, hint);
  };
  /** The discounts of one tier or club (2.4, 2.5): each percentage checked,
   * and a warning for a discount that can never be the largest on any line
   * (another discount of the same block covers all its lines with as much). */
  const discounts = (body: readonly { kind: string }[], owner: string) => {
    const ds = body.filter((s): s is A.DiscountNode => s.kind === 'discount');
    for (const d of ds) percent(d.percent, 'a discount', 'a discount takes between 0% and 100% off a line, for example `discount 10% on category "beans"`');
    const value = (d: A.DiscountNode) => parseDecimal(d.percent.raw);
    ds.forEach((d, i) => {
      const v = value(d);
      if (!v || isNegative(d.percent.raw) || v.n > 100 * v.d) return;
      if (v.n === 0) {
        warn('W004', d.loc, `${owner} has a discount of ${d.percent.raw}%, which takes nothing off`, 'remove it, or give it a percentage above 0%');
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
        warn('W004', d.loc, `${owner}: discount ${d.percent.raw}% never applies: discount ${shadow.percent.raw}% on line ${shadow.loc.line} covers the same lines`, 'only the largest discount applies to a line; remove this one or raise it');
    });
  };
  const sameLines = (a: A.DiscountNode, b: A.DiscountNode): boolean => {
    if (a.everything !== null || b.everything !== null) return a.everything !== null && b.everything !== null;
    const sa = new Set(a.categories.map((c) => c.text));
    const sb = new Set(b.categories.map((c) => c.text));
    return sa.size === sb.size && [...sa].every((c) => sb.has(c));
  };
  const rate = (r: A.RateNode, what: string) => {
    if (isNegative(r.points.raw)) err('E043', r.points.loc, `${what} cannot be negative points`);
    else decimal(r.points, `${what} of`);
    const per = money(r.per, 'the amount of a rate');
    if (per === 0) err('E016', r.per.loc, `${what} is per ${r.per.raw}: a rate cannot be per 0`, 'for example `1 point per 1 USD`');
  };
  const limit = (l: A.LimitNode) => {
    if (l.amount) {
      if (l.unit === 'points') points(l.amount, 'a limit');
      else count(l.amount, 'a limit');
    }
  };

  // --- sections ---------------------------------------------------------------
  const once = new Map<string, A.Loc>();
  const onceSection = (key: string, loc: A.Loc, label: string) => {
    const prev = once.get(key);
    if (prev) err('E014', loc, `${label} is given twice (first on line ${prev.line})`, 'merge them into one');
    else once.set(key, loc);
    return !prev;
  };
  const ruleNames = new Map<string, A.Loc>();
  const clubNames = new Map<string, A.Loc>();
  const eventNames = new Map<string, A.Loc>();
  const rewardNames = new Map<string, A.Loc>();
  const challengeNames = new Map<string, A.Loc>();
  let tiersNode: A.TiersDecl | null = null;
  const tierNames = new Map<string, A.Loc>();
  let hasBase = false;
  const programExcludes = { category: new Set<string>(), sku: new Set<string>() };

  for (const item of ast.items) {
    if (item.kind === 'base') {
      hasBase = true;
      rate(item.rate, 'base');
    } else if (item.kind === 'exclude') {
      for (const v of item.values) programExcludes[item.target].add(v.text);
    } else if (item.kind === 'tiers') {
      if (onceSection('tiers', item.loc, 'the tiers section')) tiersNode = item;
    } else if (item.kind === 'club') {
      const prev = clubNames.get(item.name.text);
      if (prev) err('E015', item.name.loc, `club ${item.name.raw} is declared twice (first on line ${prev.line})`);
      else clubNames.set(item.name.text, item.loc);
    } else if (item.kind === 'referral') onceSection('referral', item.loc, 'the referral section');
    else if (item.kind === 'redeem') onceSection('redeem', item.loc, 'the redeem section');
    else if (item.kind === 'expire') onceSection('expire', item.loc, 'the expire section');
  }
  if (tiersNode) for (const s of tiersNode.body) if (s.kind === 'tier') {
    const prev = tierNames.get(s.name.text);
    if (prev) err('E015', s.name.loc, `tier ${s.name.text} is declared twice (first on line ${prev.line})`);
    else tierNames.set(s.name.text, s.loc);
  }

  for (const item of ast.items) {
    switch (item.kind) {
      case 'rule':
        checkRule(item);
        break;
      case 'on':
        checkOn(item);
        break;
      case 'tiers':
        if (item === tiersNode) checkTiers(item);
        break;
      case 'club':
        checkClub(item);
        break;
      case 'referral':
        checkReferral(item);
        break;
      case 'redeem':
        checkRedeem(item);
        break;
      case 'expire':
        checkExpire(item);
        break;
      case 'reward':
        checkReward(item);
        break;
      case 'challenge':
        checkChallenge(item);
        break;
      default:
        break;
    }
  }
  return out;

  function checkRule(r: A.RuleDecl) {
    const prev = ruleNames.get(r.name.text);
    if (prev) err('E015', r.name.loc, `rule ${r.name.raw} is declared twice (first on line ${prev.line})`, 'give each rule its own name');
    else ruleNames.set(r.name.text, r.loc);
    if (r.name.text.trim() === '') err('E060', r.name.loc, 'a rule needs a name');
    const effects = r.body.filter((s) => s.kind === 'multiplier' || s.kind === 'extra' || s.kind === 'bonus');
    if (effects.length === 0) err('E040', r.name.loc, `rule ${r.name.raw} has no effect`, 'add one of: multiplier 2x, extra 1 point per 1 USD, bonus 50 points');
    for (const e of effects.slice(1)) err('E041', e.loc, `rule ${r.name.raw} has more than one effect (the first is on line ${effects[0]!.loc.line})`, 'split it into two rules');
    const limits = r.body.filter((s) => s.kind === 'limit');
    for (const l of limits.slice(1)) err('E045', l.loc, `rule ${r.name.raw} has more than one limit`, 'keep one limit per rule');
    const ranges: [number, number][] = [];
    let dayMask = 0x7f;
    for (const s of r.body) {
      switch (s.kind) {
        case 'multiplier':
          multiplier(s);
          if (!hasBase) out.push(diagnostic('W002', file, s.loc.line, s.loc.column, `rule ${r.name.raw} multiplies the base, but the program has no base earning`, { endLine: s.loc.endLine, endColumn: s.loc.endColumn, hint: 'add a setting such as `base 1 point per 1 USD`, or use extra' }));
          break;
        case 'extra':
          rate(s.rate, 'extra');
          break;
        case 'bonus':
          points(s.points, 'a bonus');
          break;
        case 'limit':
          limit(s);
          break;
        case 'during': {
          const a = dateOf(s.from);
          const b = dateOf(s.to);
          if (a !== null && b !== null) {
            if (b < a) err('E030', s.loc, `date range ends (${s.to.text}) before it starts (${s.from.text})`, 'write the earlier date first');
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
          const a = timeOf(s.from, false);
          const b = timeOf(s.to, true);
          if (a !== null && b !== null && b <= a) err('E032', s.loc, `hours end (${s.to.text}) is not after the start (${s.from.text})`, 'ranges cannot cross midnight; end a range at 24:00 and start another at 00:00 in a second rule');
          break;
        }
        case 'when': {
          const t = typeOf(s.expr, true);
          if (t !== 'bool' && t !== 'error')
            err('E052', s.expr.loc, `when needs a condition, but this is ${describeTy(t, s.expr)}`, `compare it, e.g. when order.total >= 20 ${currencyOk && currency ? currency : 'USD'}`);
          break;
        }
        case 'filter':
          break;
      }
    }
    // Warnings: rules that can never apply.
    if (ranges.length) {
      const from = Math.max(...ranges.map((x) => x[0]));
      const to = Math.min(...ranges.map((x) => x[1]));
      const asOf = opts.asOf ? parseDate(opts.asOf) : null;
      if (from > to) warn('W001', r.name.loc, `rule ${r.name.raw} can never apply: its date ranges do not overlap`);
      else if (asOf !== null && to < asOf) warn('W001', r.name.loc, `rule ${r.name.raw} can never apply: its date range ended before ${opts.asOf}`, 'remove the rule or move its dates');
    }
    if (dayMask === 0) warn('W001', r.name.loc, `rule ${r.name.raw} can never apply: its days conditions have no day in common`);
    for (const l of limits) if (l.amount && parseInteger(l.amount.raw) === 0) warn('W001', l.loc, `rule ${r.name.raw} can never apply: its limit is 0`);
    for (const target of ['category', 'sku'] as const) {
      const includes = r.body.filter((s): s is A.FilterNode => s.kind === 'filter' && s.target === target && !s.exclude);
      if (includes.length && includes.every((f) => f.values.every((v) => programExcludes[target].has(v.text))))
        warn('W003', includes[0]!.loc, `rule ${r.name.raw} can never apply: every ${target} it looks at is excluded program-wide`);
    }
  }

  function warn(code: string, loc: A.Loc, message: string, hint?: string) {
    out.push(diagnostic(code, file, loc.line, loc.column, message, { endLine: loc.endLine, endColumn: loc.endColumn, hint }));
  }

  function dateOf(w: A.Word): number | null {
    const d = parseDate(w.text);
    if (d === null) err('E031', w.loc, `${w.text} is not a valid date`, 'dates are YYYY-MM-DD and must exist in the calendar');
    return d;
  }
  function timeOf(w: A.Word, end: boolean): number | null {
    const t = parseTimeOfDay(w.text);
    if (t === null || (!end && t === 1440)) {
      err('E033', w.loc, `${w.text} is not a valid time of day`, end ? 'times are HH:MM from 00:00 to 24:00' : 'a range starts between 00:00 and 23:59');
      return null;
    }
    return t;
  }

  function checkOn(o: A.OnDecl) {
    const key = o.trigger === 'event' ? null : o.trigger;
    if (key) {
      const prev = once.get('on ' + key);
      if (prev) err('E014', o.loc, `on ${key} is given twice (first on line ${prev.line})`, 'merge them into one');
      else once.set('on ' + key, o.loc);
    } else if (o.event) {
      const prev = eventNames.get(o.event.text);
      if (prev) err('E015', o.event.loc, `on event ${o.event.raw} is given twice (first on line ${prev.line})`);
      else eventNames.set(o.event.text, o.loc);
    }
    const bonuses = o.body.filter((s) => s.kind === 'bonus');
    const limits = o.body.filter((s) => s.kind === 'limit');
    if (bonuses.length === 0) err('E060', o.triggerLoc, `on ${o.trigger} has no bonus`, 'add a bonus such as `bonus 100 points`');
    for (const b of bonuses.slice(1)) err('E061', b.loc, `on ${o.trigger} has more than one bonus`);
    for (const b of bonuses) {
      points(b.points, 'a bonus');
      if (b.perItem) err('E046', b.loc, '`per item` applies to orders; an event bonus is a flat number of points');
    }
    for (const l of limits) {
      if (o.trigger !== 'event') err('E046', l.loc, `on ${o.trigger} takes no limit`, o.trigger === 'birthday' ? 'a birthday bonus is awarded once a year' : 'a signup happens once per member');
      else if (l.period.text === 'order') err('E046', l.period.loc, 'an event bonus cannot be limited per order', 'use per day, week, month, year or member');
      limit(l);
    }
    for (const l of limits.slice(1)) err('E045', l.loc, 'more than one limit');
  }

  function checkTiers(t: A.TiersDecl) {
    const qualifies = t.body.filter((s) => s.kind === 'qualify');
    for (const q of qualifies.slice(1)) err('E061', q.loc, `qualify is given twice (first on line ${qualifies[0]!.loc.line})`);
    const keeps = t.body.filter((s) => s.kind === 'keep');
    for (const k of keeps.slice(1)) err('E061', k.loc, `keep is given twice (first on line ${keeps[0]!.loc.line})`);
    for (const k of keeps) duration(k.duration, 'keep');
    const q = qualifies[0];
    if (q?.window?.kind === 'rolling') duration(q.window.duration, 'the qualifying window');
    const metric: MetricName = (q?.metric.text as MetricName | undefined) ?? 'spend';
    const tiers = t.body.filter((s): s is A.TierNode => s.kind === 'tier');
    if (tiers.length === 0) err('E060', t.loc, 'the tiers section declares no tier', 'add tiers such as `tier Green at 0`');
    let prev: number | null = null;
    tiers.forEach((tier, i) => {
      const v = threshold(tier, metric);
      if (i === 0 && v !== null && v !== 0) err('E020', tier.threshold.loc, `the first tier must be at 0, not ${tier.threshold.raw}`, `write \`tier ${tier.name.text} at 0\``);
      if (v !== null) {
        if (prev !== null && v <= prev) err('E021', tier.threshold.loc, `tier ${tier.name.text} at ${tier.threshold.raw} is not above the tier before it`, 'thresholds must strictly ascend');
        prev = v;
      }
      const mults = tier.body.filter((s) => s.kind === 'multiplier');
      for (const m of mults) {
        multiplier(m);
        if (!hasBase) warn('W002', m.loc, `tier ${tier.name.text} multiplies the base, but the program has no base earning`, 'add a setting such as `base 1 point per 1 USD`');
      }
      for (const m of mults.slice(1)) err('E061', m.loc, `tier ${tier.name.text} has more than one multiplier`);
      discounts(tier.body, `tier ${tier.name.text}`);
    });
  }

  function threshold(tier: A.TierNode, metric: MetricName): number | null {
    const th = tier.threshold;
    if ('currency' in th) {
      if (metric !== 'spend') {
        err('E022', th.loc, `tiers qualify on ${metric}, so thresholds are numbers, not money`, `write \`tier ${tier.name.text} at ${th.amount}\``);
        return null;
      }
      return money(th, 'a threshold');
    }
    if (isNegative(th.raw)) {
      err('E043', th.loc, 'a threshold cannot be negative');
      return null;
    }
    const v = parseDecimal(th.raw);
    if (metric === 'spend') {
      if (v && v.n === 0) return 0;
      err('E022', th.loc, `tiers qualify on spend, so thresholds are money, not ${th.raw}`, currency ? `write \`tier ${tier.name.text} at ${th.raw} ${currency}\`` : undefined);
      return null;
    }
    const n = parseInteger(th.raw);
    if (n === null) err('E047', th.loc, `a ${metric} threshold must be a whole number, not ${th.raw}`);
    return n;
  }

  function checkClub(c: A.ClubDecl) {
    if (c.name.text.trim() === '') err('E060', c.name.loc, 'a club needs a name');
    const byKind = (k: string) => c.body.filter((s) => s.kind === k);
    for (const k of ['fee', 'multiplier', 'joinBonus']) {
      const xs = byKind(k);
      for (const x of xs.slice(1)) err('E061', x.loc, `club ${c.name.raw} has more than one ${k === 'joinBonus' ? 'join bonus' : k}`);
    }
    discounts(c.body, `club ${c.name.raw}`);
    for (const s of c.body) {
      if (s.kind === 'fee') money(s.amount, 'a fee');
      else if (s.kind === 'multiplier') {
        multiplier(s);
        if (!hasBase) warn('W002', s.loc, `club ${c.name.raw} multiplies the base, but the program has no base earning`, 'add a setting such as `base 1 point per 1 USD`');
      } else if (s.kind === 'joinBonus') points(s.points, 'a join bonus');
    }
  }

  function checkReferral(r: A.ReferralDecl) {
    const kinds = new Map<string, A.Loc>();
    for (const s of r.body) {
      const prev = kinds.get(s.kind);
      if (prev) err('E061', s.loc, `${labelOf(s.kind)} is given twice in the referral section (first on line ${prev.line})`);
      else kinds.set(s.kind, s.loc);
      if (s.kind === 'referrer' || s.kind === 'referee') points(s.points, `the ${s.kind} reward`);
      else if (s.kind === 'minOrder') money(s.amount, 'a minimum order');
      else if (s.kind === 'within') duration(s.duration, 'within');
      else if (s.kind === 'referralLimit') count(s.count, 'a referral limit');
    }
    if (!kinds.has('referrer') && !kinds.has('referee')) err('E060', r.loc, 'the referral section rewards nobody', 'add `referrer N points` and/or `referee N points`');
  }

  function checkRedeem(r: A.RedeemDecl) {
    const kinds = new Map<string, A.Loc>();
    for (const s of r.body) {
      const prev = kinds.get(s.kind);
      if (prev) err('E061', s.loc, `${labelOf(s.kind)} is given twice in the redeem section (first on line ${prev.line})`);
      else kinds.set(s.kind, s.loc);
      if (s.kind === 'redeemRate') {
        const n = points(s.points, 'a redemption rate');
        if (n === 0) err('E016', s.points.loc, 'a redemption rate cannot be for 0 points', 'for example `rate 100 points = 1 USD`');
        money(s.value, 'a redemption value');
      } else if (s.kind === 'redeemMin') points(s.points, 'a minimum redemption');
      else percent(s.percent, 'a maximum');
    }
    if (!kinds.has('redeemRate')) err('E060', r.loc, 'the redeem section has no rate', 'add a rate such as `rate 100 points = 1 USD`');
  }

  function checkExpire(e: A.ExpireDecl) {
    if (e.body.length === 0) err('E060', e.loc, 'the expire section says nothing', 'write `after 12 months` or `after 12 months inactivity`');
    for (const a of e.body.slice(1)) err('E061', a.loc, 'the expire section has more than one `after`');
    for (const a of e.body) duration(a.duration, 'expiry');
  }

  /** A catalog reward (2.9): one cost above 0, at most one value and one
   * count limit (not points, not per order), member-only conditions. */
  function checkReward(r: A.RewardDecl) {
    const prev = rewardNames.get(r.name.text);
    if (prev) err('E015', r.name.loc, `reward ${r.name.raw} is declared twice (first on line ${prev.line})`, 'give each reward its own name');
    else rewardNames.set(r.name.text, r.loc);
    if (r.name.text.trim() === '') err('E060', r.name.loc, 'a reward needs a name', 'for example reward "Free latte"');
    const costs = r.body.filter((s): s is A.CostNode => s.kind === 'cost');
    if (costs.length === 0) err('E060', r.name.loc, `reward ${r.name.raw} has no cost`, 'add what it costs, e.g. `cost 450 points`');
    for (const c of costs.slice(1)) err('E061', c.loc, `reward ${r.name.raw} has more than one cost (the first is on line ${costs[0]!.loc.line})`, 'a reward has exactly one cost: keep one');
    for (const c of costs) {
      const v = points(c.points, 'a reward cost');
      if (v === 0) err('E063', c.points.loc, `reward ${r.name.raw} costs 0 points`, 'a reward must cost more than 0 points, e.g. `cost 100 points`');
    }
    const values = r.body.filter((s): s is A.ValueNode => s.kind === 'value');
    for (const v of values.slice(1)) err('E061', v.loc, `reward ${r.name.raw} has more than one value (the first is on line ${values[0]!.loc.line})`, 'keep one value');
    for (const v of values) money(v.amount, 'a reward value');
    const limits = r.body.filter((s): s is A.LimitNode => s.kind === 'limit');
    for (const l of limits.slice(1)) err('E045', l.loc, `reward ${r.name.raw} has more than one limit`, 'a reward takes at most one limit, e.g. `limit 1 times per month`');
    for (const l of limits) {
      if (l.unit === 'points') err('E046', l.loc, 'a reward limit counts redemptions, not points', `write a count, e.g. \`limit ${l.amount?.raw ?? 1} times per ${l.period.text === 'order' ? 'month' : l.period.text}\``);
      if (l.period.text === 'order') err('E046', l.period.loc, 'a reward cannot be limited per order: it is redeemed without an order', 'use per day, week, month, year or member');
      limit(l);
      if (l.unit === 'times' && l.amount && parseInteger(l.amount.raw) === 0)
        warn('W005', l.loc, `reward ${r.name.raw} can never be redeemed: its limit is 0`, 'remove the reward, or allow at least 1 redemption');
    }
    for (const s of r.body) {
      if (s.kind !== 'when') continue;
      const bad = orderOperands(s.expr);
      for (const o of bad)
        err('E053', o.loc, `${describeOperand(o)} cannot be used in a reward's when: a reward is redeemed without an order`, 'a reward\'s when may use member.tier and member.club "Name" only');
      const t = typeOf(s.expr, true);
      if (t !== 'bool' && t !== 'error') err('E052', s.expr.loc, `when needs a condition, but this is ${describeTy(t, s.expr)}`, 'compare it, e.g. when member.tier >= Silver');
    }
  }
  /** A challenge (2.10): exactly one goal above 0 whose period is not
   * `order`, exactly one flat bonus above 0, any number of filters. */
  function checkChallenge(c: A.ChallengeDecl) {
    const prev = challengeNames.get(c.name.text);
    if (prev) err('E015', c.name.loc, `challenge ${c.name.raw} is declared twice (first on line ${prev.line})`, 'give each challenge its own name');
    else challengeNames.set(c.name.text, c.loc);
    if (c.name.text.trim() === '') err('E060', c.name.loc, 'a challenge needs a name', 'for example challenge "Three visits a week"');
    const goals = c.body.filter((s): s is A.GoalNode => s.kind === 'goal');
    if (goals.length === 0) err('E060', c.name.loc, `challenge ${c.name.raw} has no goal`, 'add a goal, e.g. `orders 3 per week` or `spend 50 ' + (currencyOk && currency ? currency : 'USD') + ' per month`');
    for (const g of goals.slice(1)) err('E061', g.loc, `challenge ${c.name.raw} has more than one goal (the first is on line ${goals[0]!.loc.line})`, 'a challenge has exactly one goal: keep one, or make a second challenge');
    for (const g of goals) {
      const v = 'currency' in g.amount ? money(g.amount, 'a spend goal') : count(g.amount, 'an orders goal');
      if (v === 0) err('E064', g.amount.loc, `challenge ${c.name.raw} has a goal of ${g.amount.raw}`, g.metric === 'orders' ? 'the goal must be at least 1 order, e.g. `orders 3 per week`' : 'the goal must be more than 0, e.g. `spend 50 ' + (currencyOk && currency ? currency : 'USD') + ' per month`');
      if (g.period.text === 'order')
        err('E065', g.period.loc, 'a challenge goal cannot be per order: it counts orders over a period', 'use per day, week, month, year or member');
    }
    const bonuses = c.body.filter((s): s is A.BonusNode => s.kind === 'bonus');
    if (bonuses.length === 0) err('E060', c.name.loc, `challenge ${c.name.raw} has no bonus`, 'add what reaching the goal earns, e.g. `bonus 100 points`');
    for (const b of bonuses.slice(1)) err('E061', b.loc, `challenge ${c.name.raw} has more than one bonus (the first is on line ${bonuses[0]!.loc.line})`, 'a challenge has exactly one bonus: keep one');
    for (const b of bonuses) {
      const v = points(b.points, 'a challenge bonus');
      if (v === 0) err('E064', b.points.loc, `challenge ${c.name.raw} has a bonus of 0 points`, 'the bonus must be more than 0 points, e.g. `bonus 100 points`');
      if (b.perItem) err('E066', b.loc, 'a challenge bonus is flat: `per item` is not allowed here', `write \`bonus ${b.points.raw} points\``);
    }
  }
  function orderOperands(e: A.Expr): A.Expr[] {
    switch (e.kind) {
      case 'or':
      case 'and':
      case 'cmp':
        return [...orderOperands(e.left), ...orderOperands(e.right)];
      case 'not':
        return orderOperands(e.operand);
      case 'paren':
        return orderOperands(e.expr);
      case 'firstOrder':
      case 'orderTotal':
      case 'orderItems':
      case 'orderChannel':
        return [e];
      default:
        return [];
    }
  }
  function describeOperand(e: A.Expr): string {
    return e.kind === 'firstOrder' ? '`first order`' : e.kind === 'orderTotal' ? 'order.total' : e.kind === 'orderItems' ? 'order.items' : 'order.channel';
  }

  // --- when expressions ---------------------------------------------------------
  type Ty = 'bool' | 'money' | 'number' | 'string' | 'tier' | 'error';
  function typeOf(e: A.Expr, top = false): Ty {
    switch (e.kind) {
      case 'or':
      case 'and': {
        const l = typeOf(e.left);
        const r = typeOf(e.right);
        expectBool(e.left, l, e.kind);
        expectBool(e.right, r, e.kind);
        return 'bool';
      }
      case 'not':
        expectBool(e.operand, typeOf(e.operand), 'not');
        return 'bool';
      case 'paren': {
        const t = typeOf(e.expr, top);
        return t;
      }
      case 'firstOrder':
      case 'memberClub':
        if (e.kind === 'memberClub' && !clubNames.has(e.name.text)) {
          const hint = closest(e.name.text, clubNames.keys());
          err('E051', e.name.loc, `unknown club ${e.name.raw}`, hint ? `did you mean "${hint}"?` : clubNames.size ? `declared clubs: ${[...clubNames.keys()].map((k) => `"${k}"`).join(', ')}` : 'the program declares no clubs');
        }
        return 'bool';
      case 'orderTotal':
      case 'money':
        if (e.kind === 'money') money(e.value, 'an amount');
        return 'money';
      case 'orderItems':
        return 'number';
      case 'number':
        decimal(e.value, 'the number');
        return 'number';
      case 'orderChannel':
      case 'string':
        return 'string';
      case 'memberTier':
        if (!tiersNode) err('E050', e.loc, 'member.tier is used but the program has no tiers', 'add a tiers section');
        return 'tier';
      case 'tierName': {
        if (tiersNode && !tierNames.has(e.name.text)) {
          const hint = closest(e.name.text, tierNames.keys());
          err('E050', e.name.loc, `unknown tier "${e.name.text}"`, hint ? `did you mean "${hint}"?` : `declared tiers: ${[...tierNames.keys()].join(', ')}`);
        } else if (!tiersNode) err('E050', e.name.loc, `unknown tier "${e.name.text}"`, 'the program has no tiers');
        return 'tier';
      }
      case 'cmp': {
        const l = typeOf(e.left);
        const r = typeOf(e.right);
        if (l === 'error' || r === 'error') return 'bool';
        if (l === 'bool' || r === 'bool') {
          err('E052', e.opLoc, `${e.op} compares values, not conditions`, 'combine conditions with and, or, not');
          return 'bool';
        }
        if (l !== r) {
          err('E052', e.loc, `cannot compare ${describeTy(l, e.left)} with ${describeTy(r, e.right)}`, mismatchHint(l, r));
          return 'bool';
        }
        if (l === 'string' && e.op !== '==' && e.op !== '!=') err('E052', e.opLoc, `strings can only be compared with == or !=`);
        if (l === 'string' && e.left.kind === 'string' && e.right.kind === 'string') err('E052', e.loc, 'compares two fixed strings', 'compare order.channel with a string');
        if (l === 'tier' && e.left.kind === 'tierName' && e.right.kind === 'tierName') err('E052', e.loc, 'compares two tier names', 'compare member.tier with a tier name');
        return 'bool';
      }
    }
    void top;
    return 'error';
  }
  function expectBool(e: A.Expr, t: Ty, op: string) {
    if (t !== 'bool' && t !== 'error') err('E052', e.loc, `${op} needs a condition, but this is ${describeTy(t, e)}`, 'compare it, e.g. order.total >= 20 ' + (currencyOk && currency ? currency : 'USD'));
  }
  function describeTy(t: Ty, e: A.Expr): string {
    const what = { bool: 'a condition', money: 'money', number: 'a number', string: 'a string', tier: 'a tier', error: 'an invalid value' }[t];
    return e.kind === 'orderTotal' ? 'order.total (money)' : e.kind === 'orderItems' ? 'order.items (a number)' : e.kind === 'orderChannel' ? 'order.channel (a string)' : e.kind === 'memberTier' ? 'member.tier' : what;
  }
  function mismatchHint(l: Ty, r: Ty): string | undefined {
    if ((l === 'money' && r === 'number') || (l === 'number' && r === 'money')) return `order.total is money: write the amount with its currency, e.g. 20 ${currencyOk && currency ? currency : 'USD'}; order.items is a plain number`;
    if (l === 'tier' || r === 'tier') return 'compare member.tier with a tier name, e.g. member.tier >= Silver';
    if (l === 'string' || r === 'string') return 'compare order.channel with a string, e.g. order.channel == "app"';
    return undefined;
  }
  void exponent;
}

function settingKey(item: A.Item): string | null {
  switch (item.kind) {
    case 'currency':
    case 'timezone':
    case 'unit':
    case 'base':
    case 'pending':
      return item.kind;
    case 'exclude':
      return `exclude ${item.target}`;
    default:
      return null;
  }
}

function labelOf(kind: string): string {
  return (
    {
      referrer: 'referrer',
      referee: 'referee',
      minOrder: 'min order',
      within: 'within',
      referralLimit: 'limit',
      redeemRate: 'rate',
      redeemMin: 'min',
      redeemMax: 'max',
    }[kind] ?? kind
  );
}
