// Stage 5: checked AST → compiled, immutable Program. Runs only when the
// checker found no errors, so every literal here is known to be valid.
import { createHash } from 'node:crypto';
import type * as A from './ast.ts';
import { currencyExponent } from './currencies.ts';
import { printExpr, stmt } from './format.ts';
import type { BonusSpec, Challenge, Club, Discount, Duration, Effect, EventBonus, Expire, Limit, LineFilter, Metric, OrderFacts, Period, Program, Redeem, Referral, Reward, RewardFacts, Rule, RuleCondition, Tier, TierWindow } from './program.ts';
import { durationUnit, parseDate, parseDecimal, parseInteger, parseTimeOfDay, ratio, toMinorUnits, WEEKDAY_INDEX, type Ratio } from './values.ts';

export function compileAst(ast: A.ProgramAst, source: string, fileName: string): Program {
  const setting = <K extends A.Setting['kind']>(kind: K) => ast.items.find((i): i is Extract<A.Setting, { kind: K }> => i.kind === kind);
  const currency = setting('currency')!.code.text;
  const exponent = currencyExponent(currency);
  const minor = (m: A.MoneyNode): number => {
    const r = toMinorUnits(m.amount, exponent);
    if (!r.ok) throw new Error(`unchecked money literal ${m.raw}`);
    return r.minor;
  };
  const dec = (n: A.Num): Ratio => parseDecimal(n.raw)!;
  const discountsOf = (body: readonly { kind: string }[]): Discount[] =>
    body
      .filter((s): s is A.DiscountNode => s.kind === 'discount')
      .map((d) => ({ categories: d.everything ? null : new Set(d.categories.map((x) => x.text)), percent: dec(d.percent), text: d.percent.raw, line: d.loc.line }));
  const int = (n: A.Num): number => parseInteger(n.raw)!;
  const dur = (d: A.DurationNode): Duration => ({ amount: int(d.amount), unit: durationUnit(d.unit.text) });
  /** `N points per X` → points per minor unit. */
  const rateOf = (r: A.RateNode): Ratio => {
    const n = dec(r.points);
    return ratio(n.n, n.d * minor(r.per));
  };

  const baseNode = setting('base');
  const excludes = ast.items.filter((i): i is A.ExcludeNode => i.kind === 'exclude');
  const excludeCategories = new Set(excludes.filter((e) => e.target === 'category').flatMap((e) => e.values.map((v) => v.text)));
  const excludeSkus = new Set(excludes.filter((e) => e.target === 'sku').flatMap((e) => e.values.map((v) => v.text)));

  // Tiers first: rules' `when` expressions refer to them by index.
  const tiersNode = ast.items.find((i): i is A.TiersDecl => i.kind === 'tiers');
  const qualify = tiersNode?.body.find((s): s is A.QualifyNode => s.kind === 'qualify');
  const metric: Metric | null = tiersNode ? ((qualify?.metric.text as Metric | undefined) ?? 'spend') : null;
  const window: TierWindow =
    qualify?.window?.kind === 'rolling'
      ? { kind: 'rolling', duration: dur(qualify.window.duration) }
      : qualify?.window?.kind === 'calendar-year'
        ? { kind: 'calendar-year' }
        : { kind: 'lifetime' };
  const pendingNode = setting('pending');
  const keepNode = tiersNode?.body.find((s): s is A.KeepNode => s.kind === 'keep');
  const tiers: Tier[] = (tiersNode?.body.filter((s): s is A.TierNode => s.kind === 'tier') ?? []).map((t, index) => {
    const mult = t.body.find((s): s is A.MultiplierNode => s.kind === 'multiplier');
    const th = t.threshold;
    return {
      name: t.name.text,
      tierRule: `tier:${t.name.text}`,
      index,
      threshold: 'currency' in th ? minor(th) : metric === 'spend' ? 0 : int(th),
      multiplier: mult ? dec(mult.factor) : null,
      multiplierText: mult ? mult.factor.raw : null,
      multiplierLine: mult ? mult.loc.line : null,
      discounts: discountsOf(t.body),
      perks: t.body.filter((s): s is A.PerkNode => s.kind === 'perk').map((p) => p.name.text),
      line: t.loc.line,
    };
  });
  const tierIndex = new Map(tiers.map((t) => [t.name, t.index]));

  const clubNodes = ast.items.filter((i): i is A.ClubDecl => i.kind === 'club');
  const clubs: Club[] = clubNodes.map((c, index) => {
    const fee = c.body.find((s): s is A.FeeNode => s.kind === 'fee');
    const mult = c.body.find((s): s is A.MultiplierNode => s.kind === 'multiplier');
    const join = c.body.find((s): s is A.JoinBonusNode => s.kind === 'joinBonus');
    return {
      name: c.name.text,
      rule: `club:${c.name.text}`,
      index,
      fee: fee ? { amount: minor(fee.amount), per: fee.per.text as 'month' | 'year', text: `${fee.amount.amount} ${fee.amount.currency} per ${fee.per.text}` } : null,
      multiplier: mult ? dec(mult.factor) : null,
      multiplierText: mult ? mult.factor.raw : null,
      multiplierLine: mult ? mult.loc.line : null,
      discounts: discountsOf(c.body),
      perks: c.body.filter((s): s is A.PerkNode => s.kind === 'perk').map((p) => p.name.text),
      joinBonus: join ? int(join.points) : 0,
      joinLine: join ? join.loc.line : null,
      line: c.loc.line,
    };
  });
  const clubIndex = new Map(clubs.map((c) => [c.name, c.index]));

  const limitOf = (l: A.LimitNode | undefined): Limit | null =>
    l ? { unit: l.unit, amount: l.amount ? int(l.amount) : 1, period: l.period.text as Period } : null;

  const rules: Rule[] = ast.items
    .filter((i): i is A.RuleDecl => i.kind === 'rule')
    .map((r, index) => {
      const effectNode = r.body.find((s) => s.kind === 'multiplier' || s.kind === 'extra' || s.kind === 'bonus') as A.MultiplierNode | A.ExtraNode | A.BonusNode;
      const effect: Effect =
        effectNode.kind === 'multiplier'
          ? { kind: 'multiplier', factor: dec(effectNode.factor), text: effectNode.factor.raw }
          : effectNode.kind === 'extra'
            ? { kind: 'extra', rate: rateOf(effectNode.rate) }
            : { kind: 'bonus', points: int(effectNode.points), perItem: effectNode.perItem };
      const { condition, conditionJs, usesLocalTime, conditions } = compileConditions(r.body, tierIndex, clubIndex, minor);
      const filters = r.body.filter((s): s is A.FilterNode => s.kind === 'filter');
      return {
        name: r.name.text,
        index,
        line: r.loc.line,
        effectLine: effectNode.loc.line,
        matches: compileFilters(filters),
        filter: filterData(filters),
        condition,
        conditionJs,
        usesLocalTime,
        conditions,
        effect,
        limit: limitOf(r.body.find((s): s is A.LimitNode => s.kind === 'limit')),
      };
    });

  const ons = ast.items.filter((i): i is A.OnDecl => i.kind === 'on');
  const bonusOf = (o: A.OnDecl | undefined): BonusSpec | null => {
    const b = o?.body.find((s): s is A.BonusNode => s.kind === 'bonus');
    return b ? { points: int(b.points), line: b.loc.line } : null;
  };
  const events = new Map<string, EventBonus>();
  for (const o of ons) {
    if (o.trigger !== 'event' || !o.event) continue;
    const b = bonusOf(o)!;
    events.set(o.event.text, { name: o.event.text, ...b, limit: limitOf(o.body.find((s): s is A.LimitNode => s.kind === 'limit')) });
  }

  const refNode = ast.items.find((i): i is A.ReferralDecl => i.kind === 'referral');
  let referral: Referral | null = null;
  if (refNode) {
    const get = <K extends A.ReferralStmt['kind']>(k: K) => refNode.body.find((s): s is Extract<A.ReferralStmt, { kind: K }> => s.kind === k);
    const rr = get('referrer');
    const re = get('referee');
    const mo = get('minOrder');
    const wi = get('within');
    const li = get('referralLimit');
    referral = {
      referrer: rr ? int(rr.points) : 0,
      referee: re ? int(re.points) : 0,
      referrerLine: rr ? rr.loc.line : null,
      refereeLine: re ? re.loc.line : null,
      minOrder: mo ? minor(mo.amount) : 0,
      within: wi ? dur(wi.duration) : null,
      limitPerYear: li ? int(li.count) : null,
    };
  }

  const redeemNode = ast.items.find((i): i is A.RedeemDecl => i.kind === 'redeem');
  let redeem: Redeem | null = null;
  if (redeemNode) {
    const get = <K extends A.RedeemStmt['kind']>(k: K) => redeemNode.body.find((s): s is Extract<A.RedeemStmt, { kind: K }> => s.kind === k);
    const rate = get('redeemRate')!;
    const min = get('redeemMin');
    const max = get('redeemMax');
    redeem = { points: int(rate.points), value: minor(rate.value), min: min ? int(min.points) : 0, maxPercent: max ? dec(max.percent) : null, line: rate.loc.line };
  }

  const expireNode = ast.items.find((i): i is A.ExpireDecl => i.kind === 'expire');
  const after = expireNode?.body[0];
  const expire: Expire | null = after ? { mode: after.inactivity ? 'inactivity' : 'lots', after: dur(after.duration), line: after.loc.line } : null;

  const rewards: Reward[] = ast.items
    .filter((i): i is A.RewardDecl => i.kind === 'reward')
    .map((r, index) => {
      const cost = r.body.find((s): s is A.CostNode => s.kind === 'cost')!;
      const lim = r.body.find((s): s is A.LimitNode => s.kind === 'limit');
      const value = r.body.find((s): s is A.ValueNode => s.kind === 'value');
      const conditions = r.body
        .filter((s): s is A.WhenNode => s.kind === 'when')
        .map((w) => ({
          text: printExpr(w.expr),
          line: w.loc.line,
          test: new Function('f', `return ${exprCode(w.expr, tierIndex, clubIndex, minor)};`) as (f: RewardFacts) => boolean,
        }));
      return {
        name: r.name.text,
        rule: `reward:${r.name.text}`,
        index,
        cost: int(cost.points),
        costLine: cost.loc.line,
        conditions,
        limit: lim ? { amount: lim.amount ? int(lim.amount) : 1, period: lim.period.text as Exclude<Period, 'order'> } : null,
        value: value ? minor(value.amount) : null,
        line: r.loc.line,
      };
    });

  const challenges: Challenge[] = ast.items
    .filter((i): i is A.ChallengeDecl => i.kind === 'challenge')
    .map((c, index) => {
      const goal = c.body.find((s): s is A.GoalNode => s.kind === 'goal')!;
      const bonus = c.body.find((s): s is A.BonusNode => s.kind === 'bonus')!;
      const filters = c.body.filter((s): s is A.FilterNode => s.kind === 'filter');
      const amount = 'currency' in goal.amount ? minor(goal.amount) : int(goal.amount);
      const amountText = 'currency' in goal.amount ? `${goal.amount.amount} ${goal.amount.currency}` : goal.amount.raw;
      return {
        name: c.name.text,
        rule: `challenge:${c.name.text}`,
        index,
        goal: { metric: goal.metric, amount, period: goal.period.text as Exclude<Period, 'order'>, text: `${goal.metric} ${amountText} per ${goal.period.text}` },
        matches: compileFilters(filters),
        filter: filterData(filters),
        bonus: int(bonus.points),
        bonusLine: bonus.loc.line,
        line: c.loc.line,
      };
    });

  const program: Program = {
    name: ast.name?.text ?? '',
    fileName,
    source,
    hash: createHash('sha256').update(source).digest('hex'),
    currency,
    currencyExponent: exponent,
    timezone: setting('timezone')?.value.text ?? 'UTC',
    unit: setting('unit')?.value.text ?? 'points',
    base: baseNode ? { rate: rateOf(baseNode.rate), line: baseNode.loc.line } : null,
    pending: pendingNode ? dur(pendingNode.duration) : null,
    excludeCategories,
    excludeSkus,
    rules,
    signup: bonusOf(ons.find((o) => o.trigger === 'signup')),
    birthday: bonusOf(ons.find((o) => o.trigger === 'birthday')),
    events,
    tiers,
    metric,
    window,
    keep: keepNode ? dur(keepNode.duration) : null,
    clubs,
    clubIndex,
    referral,
    redeem,
    hasRedeem: redeem !== null,
    expire,
    rewards,
    rewardIndex: new Map(rewards.map((r) => [r.name, r.index])),
    challenges,
    lines: ['', ...source.split(/\r\n|\r|\n/)],
  };
  return deepFreeze(program);
}

// Filters and conditions become JavaScript source, compiled once with
// `new Function`: one straight-line function per rule instead of a tree of
// closures. Only checked AST values reach the source: numbers parsed from
// literals and strings through JSON.stringify.

/** A line matches when its category is in the union of the `category` lists
 * (if any), its sku in the union of the `sku` lists (if any), and it is in
 * none of the exclude lists. */
function compileFilters(filters: A.FilterNode[]): ((category: string, sku: string) => boolean) | null {
  if (filters.length === 0) return null;
  const sets: Set<string>[] = [];
  const test = (target: 'category' | 'sku', exclude: boolean): string | null => {
    const fs = filters.filter((f) => f.target === target && f.exclude === exclude);
    if (!fs.length) return null;
    const values = [...new Set(fs.flatMap((f) => f.values.map((v) => v.text)))];
    const v = target === 'category' ? 'c' : 's';
    let code: string;
    if (values.length <= 4) code = '(' + values.map((x) => `${v} === ${JSON.stringify(x)}`).join(' || ') + ')';
    else {
      sets.push(new Set(values));
      code = `S[${sets.length - 1}].has(${v})`;
    }
    return exclude ? `!${code}` : code;
  };
  const parts = [test('category', false), test('sku', false), test('category', true), test('sku', true)].filter((x): x is string => x !== null);
  return new Function('S', `return (c, s) => ${parts.join(' && ')};`)(sets) as (category: string, sku: string) => boolean;
}

function filterData(filters: A.FilterNode[]): LineFilter | null {
  if (filters.length === 0) return null;
  const union = (target: 'category' | 'sku', exclude: boolean): string[] | null => {
    const fs = filters.filter((f) => f.target === target && f.exclude === exclude);
    return fs.length ? [...new Set(fs.flatMap((f) => f.values.map((v) => v.text)))] : null;
  };
  return { categories: union('category', false), skus: union('sku', false), excludeCategories: union('category', true), excludeSkus: union('sku', true) };
}

function compileConditions(
  body: A.RuleStmt[],
  tierIndex: Map<string, number>,
  clubIndex: Map<string, number>,
  minor: (m: A.MoneyNode) => number,
): { condition: ((f: OrderFacts) => boolean) | null; conditionJs: string | null; usesLocalTime: boolean; conditions: RuleCondition[] } {
  const parts: string[] = [];
  const conditions: RuleCondition[] = [];
  const add = (js: string, text: string, line: number) => {
    parts.push(js);
    conditions.push({ text, line, test: new Function('f', `return ${js};`) as (f: OrderFacts) => boolean });
  };
  let usesLocalTime = false;
  for (const s of body) {
    if (s.kind === 'during') {
      usesLocalTime = true;
      add(`(f.localDay >= ${parseDate(s.from.text)!} && f.localDay <= ${parseDate(s.to.text)!})`, stmt(s), s.loc.line);
    } else if (s.kind === 'days') {
      let mask = 0;
      for (const d of s.days) mask |= 1 << WEEKDAY_INDEX[d.text]!;
      usesLocalTime = true;
      add(`((${mask} >> f.weekday) & 1) === 1`, stmt(s), s.loc.line);
    } else if (s.kind === 'hours') {
      usesLocalTime = true;
      add(`(f.msOfDay >= ${parseTimeOfDay(s.from.text)! * 60_000} && f.msOfDay < ${parseTimeOfDay(s.to.text)! * 60_000})`, stmt(s), s.loc.line);
    } else if (s.kind === 'when') {
      add(exprCode(s.expr, tierIndex, clubIndex, minor), stmt(s), s.loc.line);
    }
  }
  if (parts.length === 0) return { condition: null, conditionJs: null, usesLocalTime, conditions };
  const js = parts.join(' && ');
  return { condition: new Function('f', `return ${js};`) as (f: OrderFacts) => boolean, conditionJs: js, usesLocalTime, conditions };
}

/** A `when` expression as JavaScript over `f` (OrderFacts). The checker has
 * made sure each operator sees values of one type. A missing channel (null)
 * is never equal to a string: == is false, != is true. */
export function exprCode(e: A.Expr, tierIndex: Map<string, number>, clubIndex: Map<string, number>, minor: (m: A.MoneyNode) => number): string {
  const c = (x: A.Expr) => exprCode(x, tierIndex, clubIndex, minor);
  switch (e.kind) {
    case 'or':
      return `(${c(e.left)} || ${c(e.right)})`;
    case 'and':
      return `(${c(e.left)} && ${c(e.right)})`;
    case 'not':
      return `!${c(e.operand)}`;
    case 'paren':
      return `(${c(e.expr)})`;
    case 'firstOrder':
      return 'f.firstOrder';
    case 'orderTotal':
      return 'f.total';
    case 'orderItems':
      return 'f.items';
    case 'orderChannel':
      return 'f.channel';
    case 'memberTier':
      return 'f.tier';
    case 'memberClub':
      return `(f.clubs[${clubIndex.get(e.name.text)!}] === true)`;
    case 'money':
      return String(minor(e.value));
    case 'number': {
      const r = parseDecimal(e.value.raw)!;
      return `(${r.n} / ${r.d})`;
    }
    case 'string':
      return JSON.stringify(e.value.text);
    case 'tierName':
      return String(tierIndex.get(e.name.text)!);
    case 'cmp': {
      const op = e.op === '==' ? '===' : e.op === '!=' ? '!==' : e.op;
      return `(${c(e.left)} ${op} ${c(e.right)})`;
    }
  }
}

/** Sets and Maps that refuse changes once built (Object.freeze cannot stop
 * add or set). The constructor's own adds run before the object is sealed. */
const sealed = new WeakSet<object>();
const refuse = (): never => {
  throw new TypeError('a compiled program cannot be changed');
};

class FrozenSet<T> extends Set<T> {
  constructor(values: Iterable<T>) {
    super(values);
    sealed.add(this);
  }
  override add(v: T): this {
    return sealed.has(this) ? refuse() : super.add(v);
  }
  override delete(): boolean {
    return refuse();
  }
  override clear(): void {
    refuse();
  }
}

class FrozenMap<K, V> extends Map<K, V> {
  constructor(entries: Iterable<readonly [K, V]>) {
    super(entries);
    sealed.add(this);
  }
  override set(k: K, v: V): this {
    return sealed.has(this) ? refuse() : super.set(k, v);
  }
  override delete(): boolean {
    return refuse();
  }
  override clear(): void {
    refuse();
  }
}

/** Freezes the program all the way down, Sets and Maps included. */
function deepFreeze<T>(o: T): T {
  if (!o || typeof o !== 'object' || Object.isFrozen(o)) return o;
  if (o instanceof Set) return Object.freeze(o instanceof FrozenSet ? o : new FrozenSet([...o].map(deepFreeze))) as T;
  if (o instanceof Map) return Object.freeze(o instanceof FrozenMap ? o : new FrozenMap([...o].map(([k, v]) => [k, deepFreeze(v)] as const))) as T;
  for (const [k, v] of Object.entries(o)) {
    const f = deepFreeze(v);
    if (f !== v) (o as Record<string, unknown>)[k] = f;
  }
  return Object.freeze(o);
}
