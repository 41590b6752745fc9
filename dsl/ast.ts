// Stage 3: CST → AST. Every node keeps its source location so that the
// checker can point at it and the engine can say which line produced a
// ledger entry. The builder is a Chevrotain CST visitor; it never throws:
// nodes that error recovery left incomplete are dropped (their syntax error
// has already been reported).
import type { CstNode, IToken } from 'chevrotain';
import { StrictCstVisitor } from './parser.ts';
import type * as C from './cst.generated.ts';

export interface Loc {
  line: number;
  column: number;
  /** Exclusive. */
  endLine: number;
  endColumn: number;
}

export interface Word {
  text: string;
  loc: Loc;
}
/** A string literal: `text` is unescaped, `raw` is as written (with quotes). */
export interface Str {
  text: string;
  raw: string;
  loc: Loc;
}
/** A number as written (may carry a leading minus, which the checker rejects). */
export interface Num {
  raw: string;
  loc: Loc;
}
export interface MoneyNode {
  amount: string;
  currency: string;
  raw: string;
  loc: Loc;
}
export interface DurationNode {
  amount: Num;
  unit: Word;
  loc: Loc;
}
export interface RateNode {
  points: Num;
  per: MoneyNode;
  loc: Loc;
}

export type Setting =
  | { kind: 'currency'; code: Word; loc: Loc }
  | { kind: 'timezone'; value: Str; loc: Loc }
  | { kind: 'unit'; value: Str; loc: Loc }
  | { kind: 'base'; rate: RateNode; loc: Loc }
  | { kind: 'pending'; duration: DurationNode; loc: Loc }
  | ExcludeNode;

export interface ExcludeNode {
  kind: 'exclude';
  target: 'category' | 'sku';
  values: Str[];
  loc: Loc;
}

export interface FilterNode {
  kind: 'filter';
  target: 'category' | 'sku';
  exclude: boolean;
  values: Str[];
  loc: Loc;
}
export interface DuringNode {
  kind: 'during';
  from: Word;
  to: Word;
  loc: Loc;
}
export interface DaysNode {
  kind: 'days';
  days: Word[];
  loc: Loc;
}
export interface HoursNode {
  kind: 'hours';
  from: Word;
  to: Word;
  loc: Loc;
}
export interface WhenNode {
  kind: 'when';
  expr: Expr;
  loc: Loc;
}
export interface MultiplierNode {
  kind: 'multiplier';
  /** The factor as written, without the trailing x. */
  factor: Num;
  loc: Loc;
}
export interface ExtraNode {
  kind: 'extra';
  rate: RateNode;
  loc: Loc;
}
export interface BonusNode {
  kind: 'bonus';
  points: Num;
  perItem: boolean;
  loc: Loc;
}
export interface LimitNode {
  kind: 'limit';
  /** null for `once`. */
  amount: Num | null;
  unit: 'points' | 'times';
  period: Word;
  loc: Loc;
}
export type RuleStmt = FilterNode | DuringNode | DaysNode | HoursNode | WhenNode | MultiplierNode | ExtraNode | BonusNode | LimitNode;

export interface RuleDecl {
  kind: 'rule';
  name: Str;
  body: RuleStmt[];
  loc: Loc;
}
export interface OnDecl {
  kind: 'on';
  trigger: 'signup' | 'birthday' | 'event';
  triggerLoc: Loc;
  event: Str | null;
  body: (BonusNode | LimitNode)[];
  loc: Loc;
}

export type Window = { kind: 'rolling'; duration: DurationNode } | { kind: 'calendar-year'; loc: Loc } | { kind: 'lifetime'; loc: Loc };
export interface QualifyNode {
  kind: 'qualify';
  metric: Word;
  window: Window | null;
  loc: Loc;
}
export interface PerkNode {
  kind: 'perk';
  name: Str;
  loc: Loc;
}
export interface TierNode {
  kind: 'tier';
  name: Word;
  threshold: Num | MoneyNode;
  /** Whether the tier was written with a `{ ... }` block. */
  block: boolean;
  body: (MultiplierNode | DiscountNode | PerkNode)[];
  loc: Loc;
}
export interface KeepNode {
  kind: 'keep';
  duration: DurationNode;
  loc: Loc;
}
export interface TiersDecl {
  kind: 'tiers';
  body: (QualifyNode | TierNode | KeepNode)[];
  loc: Loc;
}

export interface FeeNode {
  kind: 'fee';
  amount: MoneyNode;
  per: Word;
  loc: Loc;
}
export interface DiscountNode {
  kind: 'discount';
  percent: Num;
  /** The categories of `on category ...`; empty with `on everything`. */
  categories: Str[];
  /** The `everything` keyword of `on everything`, null with `on category`. */
  everything: Loc | null;
  loc: Loc;
}
export interface JoinBonusNode {
  kind: 'joinBonus';
  points: Num;
  loc: Loc;
}
export interface ClubDecl {
  kind: 'club';
  name: Str;
  body: (FeeNode | MultiplierNode | DiscountNode | PerkNode | JoinBonusNode)[];
  loc: Loc;
}

export type ReferralStmt =
  | { kind: 'referrer'; points: Num; loc: Loc }
  | { kind: 'referee'; points: Num; loc: Loc }
  | { kind: 'minOrder'; amount: MoneyNode; loc: Loc }
  | { kind: 'within'; duration: DurationNode; loc: Loc }
  | { kind: 'referralLimit'; count: Num; loc: Loc };
export interface ReferralDecl {
  kind: 'referral';
  body: ReferralStmt[];
  loc: Loc;
}

export type RedeemStmt =
  | { kind: 'redeemRate'; points: Num; value: MoneyNode; loc: Loc }
  | { kind: 'redeemMin'; points: Num; loc: Loc }
  | { kind: 'redeemMax'; percent: Num; loc: Loc };
export interface RedeemDecl {
  kind: 'redeem';
  body: RedeemStmt[];
  loc: Loc;
}

export interface AfterNode {
  kind: 'after';
  duration: DurationNode;
  inactivity: boolean;
  loc: Loc;
}
export interface ExpireDecl {
  kind: 'expire';
  body: AfterNode[];
  loc: Loc;
}

export interface CostNode {
  kind: 'cost';
  points: Num;
  loc: Loc;
}
export interface ValueNode {
  kind: 'value';
  amount: MoneyNode;
  loc: Loc;
}
export type RewardStmt = CostNode | WhenNode | LimitNode | ValueNode;
/** `reward "Name" { cost ...  when ...  limit ...  value ... }` (dsl.md 2.9). */
export interface RewardDecl {
  kind: 'reward';
  name: Str;
  body: RewardStmt[];
  loc: Loc;
}

/** A challenge goal (dsl.md 2.10): `orders N per P` or `spend MONEY per P`. */
export interface GoalNode {
  kind: 'goal';
  /** The keyword and its location. */
  metric: 'orders' | 'spend';
  metricLoc: Loc;
  /** The count (orders) or the amount (spend). */
  amount: Num | MoneyNode;
  period: Word;
  loc: Loc;
}
export type ChallengeStmt = GoalNode | FilterNode | BonusNode;
/** `challenge "Name" { orders 3 per week  category "coffee"  bonus 100 points }` (dsl.md 2.10). */
export interface ChallengeDecl {
  kind: 'challenge';
  name: Str;
  body: ChallengeStmt[];
  loc: Loc;
}

export type Section = RuleDecl | OnDecl | TiersDecl | ClubDecl | ReferralDecl | RedeemDecl | ExpireDecl | RewardDecl | ChallengeDecl;
export type Item = Setting | Section;

/** An unknown word where a block expects a statement (or the program a
 * setting or section): `block` is the grammar rule of that block. Reported
 * by the checker as E004. */
export interface UnknownWord {
  word: Word;
  block: string;
}

export type CmpOp = '==' | '!=' | '<' | '<=' | '>' | '>=';
export type Expr =
  | { kind: 'or'; left: Expr; right: Expr; loc: Loc }
  | { kind: 'and'; left: Expr; right: Expr; loc: Loc }
  | { kind: 'not'; operand: Expr; loc: Loc }
  | { kind: 'paren'; expr: Expr; loc: Loc }
  | { kind: 'cmp'; op: CmpOp; opLoc: Loc; left: Expr; right: Expr; loc: Loc }
  | { kind: 'firstOrder'; loc: Loc }
  | { kind: 'orderTotal'; loc: Loc }
  | { kind: 'orderItems'; loc: Loc }
  | { kind: 'orderChannel'; loc: Loc }
  | { kind: 'memberTier'; loc: Loc }
  | { kind: 'memberClub'; name: Str; loc: Loc }
  | { kind: 'money'; value: MoneyNode; loc: Loc }
  | { kind: 'number'; value: Num; loc: Loc }
  | { kind: 'string'; value: Str; loc: Loc }
  | { kind: 'tierName'; name: Word; loc: Loc };

export interface Comment {
  text: string;
  loc: Loc;
}

export interface ProgramAst {
  name: Str | null;
  items: Item[];
  unknown: UnknownWord[];
  comments: Comment[];
  loc: Loc;
}

// ---------------------------------------------------------------------------

function real(t: IToken | undefined): t is IToken {
  return t !== undefined && !t.isInsertedInRecovery && Number.isFinite(t.startOffset);
}
function tok(ts: IToken[] | undefined, i = 0): IToken | undefined {
  const t = ts?.[i];
  return real(t) ? t : undefined;
}
export function tokenLoc(t: IToken): Loc {
  return { line: t.startLine ?? 1, column: t.startColumn ?? 1, endLine: t.endLine ?? t.startLine ?? 1, endColumn: (t.endColumn ?? t.startColumn ?? 1) + 1 };
}
function nodeLocOf(ctx: C.ProgramCstChildren): Loc {
  const open = tok(ctx.Kw_program);
  const close = tok(ctx.RBrace);
  return open ? span(tokenLoc(open), close ? tokenLoc(close) : tokenLoc(open)) : { line: 1, column: 1, endLine: 1, endColumn: 2 };
}
export function nodeLoc(n: CstNode): Loc {
  const l = n.location;
  if (!l || !Number.isFinite(l.startLine) || !Number.isFinite(l.endLine)) return firstTokenLoc(n);
  return { line: l.startLine!, column: l.startColumn!, endLine: l.endLine!, endColumn: l.endColumn! + 1 };
}
function firstTokenLoc(n: CstNode): Loc {
  for (const arr of Object.values(n.children)) {
    for (const c of arr) {
      if ('image' in c) {
        if (real(c)) return tokenLoc(c);
      } else return firstTokenLoc(c);
    }
  }
  return { line: 1, column: 1, endLine: 1, endColumn: 2 };
}
export function span(a: Loc, b: Loc): Loc {
  return { line: a.line, column: a.column, endLine: b.endLine, endColumn: b.endColumn };
}
function word(t: IToken): Word {
  return { text: t.image, loc: tokenLoc(t) };
}
function num(t: IToken): Num {
  return { raw: t.image, loc: tokenLoc(t) };
}
export function unescapeString(raw: string): string {
  const inner = raw.endsWith('"') && raw.length >= 2 ? raw.slice(1, -1) : raw.slice(1);
  return inner.replace(/\\(["\\])/g, '$1');
}
function str(t: IToken): Str {
  return { text: unescapeString(t.image), raw: t.image, loc: tokenLoc(t) };
}
export function splitMoney(raw: string): { amount: string; currency: string } {
  const m = /^(-?\d+(?:\.\d+)?)[ \t]?([A-Z]{3})$/.exec(raw);
  return m ? { amount: m[1]!, currency: m[2]! } : { amount: raw, currency: '' };
}
function money(t: IToken): MoneyNode {
  return { ...splitMoney(t.image), raw: t.image, loc: tokenLoc(t) };
}
function strs(ts: IToken[] | undefined): Str[] {
  return (ts ?? []).filter(real).map(str);
}

type Unknown = { kind: 'unknownStmt'; word: Word };

class AstBuilder extends StrictCstVisitor {
  unknown: UnknownWord[] = [];

  constructor() {
    super();
    this.validateVisitor();
  }

  /** Statements of a block, with unknown words set aside for the checker. */
  private known<T>(block: string, xs: (T | Unknown | null)[]): T[] {
    const out: T[] = [];
    for (const x of xs) {
      if (x === null) continue;
      if ((x as Unknown).kind === 'unknownStmt') this.unknown.push({ word: (x as Unknown).word, block });
      else out.push(x as T);
    }
    return out;
  }

  program(ctx: C.ProgramCstChildren): ProgramAst {
    const name = tok(ctx.StringLit);
    this.unknown = [];
    const items = this.known<Item>('program', (ctx.item ?? []).map((n) => this.visit(n) as Item | Unknown | null));
    return {
      name: name ? str(name) : null,
      items,
      unknown: this.unknown,
      comments: [],
      loc: nodeLocOf(ctx),
    };
  }

  item(ctx: C.ItemCstChildren): Item | null {
    const child = Object.values(ctx).find((v) => v && v.length)?.[0] as CstNode | undefined;
    return child ? (this.visit(child) as Item | null) : null;
  }

  unknownItem(ctx: C.UnknownItemCstChildren): Unknown | null {
    const w = tok(ctx.Identifier);
    return w ? { kind: 'unknownStmt', word: word(w) } : null;
  }

  unknownStmt(ctx: C.UnknownStmtCstChildren): Unknown | null {
    const w = tok(ctx.Identifier);
    return w ? { kind: 'unknownStmt', word: word(w) } : null;
  }

  anyBlock(): null {
    return null;
  }

  currencySetting(ctx: C.CurrencySettingCstChildren): Setting | null {
    const k = tok(ctx.Kw_currency);
    const code = tok(ctx.Identifier);
    if (!k || !code) return null;
    return { kind: 'currency', code: word(code), loc: span(tokenLoc(k), tokenLoc(code)) };
  }

  timezoneSetting(ctx: C.TimezoneSettingCstChildren): Setting | null {
    const k = tok(ctx.Kw_timezone);
    const v = tok(ctx.StringLit);
    if (!k || !v) return null;
    return { kind: 'timezone', value: str(v), loc: span(tokenLoc(k), tokenLoc(v)) };
  }

  unitSetting(ctx: C.UnitSettingCstChildren): Setting | null {
    const k = tok(ctx.Kw_unit);
    const v = tok(ctx.StringLit);
    if (!k || !v) return null;
    return { kind: 'unit', value: str(v), loc: span(tokenLoc(k), tokenLoc(v)) };
  }

  baseSetting(ctx: C.BaseSettingCstChildren): Setting | null {
    const k = tok(ctx.Kw_base);
    const rate = ctx.rate?.[0] ? (this.visit(ctx.rate[0]) as RateNode | null) : null;
    if (!k || !rate) return null;
    return { kind: 'base', rate, loc: span(tokenLoc(k), rate.loc) };
  }

  pendingSetting(ctx: C.PendingSettingCstChildren): Setting | null {
    const k = tok(ctx.Kw_pending);
    const d = ctx.duration?.[0] ? (this.visit(ctx.duration[0]) as DurationNode | null) : null;
    if (!k || !d) return null;
    return { kind: 'pending', duration: d, loc: span(tokenLoc(k), d.loc) };
  }

  rate(ctx: C.RateCstChildren): RateNode | null {
    const n = tok(ctx.NumberLit);
    const m = tok(ctx.MoneyLit);
    if (!n || !m || !tok(ctx.PointKw) || !tok(ctx.Kw_per)) return null;
    return { points: num(n), per: money(m), loc: span(tokenLoc(n), tokenLoc(m)) };
  }

  excludeStmt(ctx: C.ExcludeStmtCstChildren): ExcludeNode | null {
    const k = tok(ctx.Kw_exclude);
    const target = tok(ctx.Kw_category) ? 'category' : tok(ctx.Kw_sku) ? 'sku' : null;
    const values = ctx.stringList?.[0] ? (this.visit(ctx.stringList[0]) as Str[]) : [];
    if (!k || !target || values.length === 0) return null;
    return { kind: 'exclude', target, values, loc: span(tokenLoc(k), values[values.length - 1]!.loc) };
  }

  stringList(ctx: C.StringListCstChildren): Str[] {
    return strs(ctx.StringLit);
  }

  ruleDecl(ctx: C.RuleDeclCstChildren, ): RuleDecl | null {
    const k = tok(ctx.Kw_rule);
    const name = tok(ctx.StringLit);
    if (!k || !name) return null;
    const close = tok(ctx.RBrace);
    const body = this.known<RuleStmt>('ruleDecl', (ctx.ruleStmt ?? []).map((n) => this.visit(n) as RuleStmt | Unknown | null));
    return { kind: 'rule', name: str(name), body, loc: span(tokenLoc(k), close ? tokenLoc(close) : tokenLoc(name)) };
  }

  ruleStmt(ctx: C.RuleStmtCstChildren): RuleStmt | null {
    const child = Object.values(ctx).find((v) => v && v.length)?.[0] as CstNode | undefined;
    if (!child) return null;
    const r = this.visit(child) as RuleStmt | ExcludeNode | Unknown | null;
    if (r && r.kind === 'unknownStmt') return r as unknown as RuleStmt;
    if (r && r.kind === 'exclude') return { kind: 'filter', target: r.target, exclude: true, values: r.values, loc: r.loc };
    return r;
  }

  categoryFilter(ctx: C.CategoryFilterCstChildren): FilterNode | null {
    const k = tok(ctx.Kw_category);
    const values = ctx.stringList?.[0] ? (this.visit(ctx.stringList[0]) as Str[]) : [];
    if (!k || values.length === 0) return null;
    return { kind: 'filter', target: 'category', exclude: false, values, loc: span(tokenLoc(k), values[values.length - 1]!.loc) };
  }

  skuFilter(ctx: C.SkuFilterCstChildren): FilterNode | null {
    const k = tok(ctx.Kw_sku);
    const values = ctx.stringList?.[0] ? (this.visit(ctx.stringList[0]) as Str[]) : [];
    if (!k || values.length === 0) return null;
    return { kind: 'filter', target: 'sku', exclude: false, values, loc: span(tokenLoc(k), values[values.length - 1]!.loc) };
  }

  duringCond(ctx: C.DuringCondCstChildren): DuringNode | null {
    const k = tok(ctx.Kw_during);
    const a = tok(ctx.DateLit, 0);
    const b = tok(ctx.DateLit, 1);
    if (!k || !a || !b) return null;
    return { kind: 'during', from: word(a), to: word(b), loc: span(tokenLoc(k), tokenLoc(b)) };
  }

  daysCond(ctx: C.DaysCondCstChildren): DaysNode | null {
    const k = tok(ctx.Kw_days);
    const days = (ctx.Weekday ?? []).filter(real).map(word);
    if (!k || days.length === 0) return null;
    return { kind: 'days', days, loc: span(tokenLoc(k), days[days.length - 1]!.loc) };
  }

  hoursCond(ctx: C.HoursCondCstChildren): HoursNode | null {
    const k = tok(ctx.Kw_hours);
    const a = tok(ctx.TimeLit, 0);
    const b = tok(ctx.TimeLit, 1);
    if (!k || !a || !b) return null;
    return { kind: 'hours', from: word(a), to: word(b), loc: span(tokenLoc(k), tokenLoc(b)) };
  }

  whenCond(ctx: C.WhenCondCstChildren): WhenNode | null {
    const k = tok(ctx.Kw_when);
    const expr = ctx.expr?.[0] ? (this.visit(ctx.expr[0]) as Expr | null) : null;
    if (!k || !expr) return null;
    return { kind: 'when', expr, loc: span(tokenLoc(k), expr.loc) };
  }

  multiplierStmt(ctx: C.MultiplierStmtCstChildren): MultiplierNode | null {
    const k = tok(ctx.Kw_multiplier);
    const m = tok(ctx.MultLit);
    if (!k || !m) return null;
    return { kind: 'multiplier', factor: { raw: m.image.slice(0, -1), loc: tokenLoc(m) }, loc: span(tokenLoc(k), tokenLoc(m)) };
  }

  extraStmt(ctx: C.ExtraStmtCstChildren): ExtraNode | null {
    const k = tok(ctx.Kw_extra);
    const rate = ctx.rate?.[0] ? (this.visit(ctx.rate[0]) as RateNode | null) : null;
    if (!k || !rate) return null;
    return { kind: 'extra', rate, loc: span(tokenLoc(k), rate.loc) };
  }

  bonusStmt(ctx: C.BonusStmtCstChildren): BonusNode | null {
    const k = tok(ctx.Kw_bonus);
    const n = tok(ctx.NumberLit);
    const p = tok(ctx.PointKw);
    if (!k || !n || !p) return null;
    const item = tok(ctx.Kw_item);
    const perItem = !!item && !!tok(ctx.Kw_per);
    return { kind: 'bonus', points: num(n), perItem, loc: span(tokenLoc(k), tokenLoc(perItem ? item! : p)) };
  }

  limitStmt(ctx: C.LimitStmtCstChildren): LimitNode | null {
    const start = tok(ctx.Kw_limit) ?? tok(ctx.Kw_once);
    const period = tok(ctx.PeriodKw);
    if (!start || !period || !tok(ctx.Kw_per)) return null;
    const n = tok(ctx.NumberLit);
    let amount: Num | null = null;
    let unit: 'points' | 'times' = 'times';
    if (n) {
      amount = num(n);
      unit = tok(ctx.PointKw) ? 'points' : 'times';
      if (!tok(ctx.PointKw) && !tok(ctx.Kw_times) && !tok(ctx.Kw_time)) return null;
    } else if (!tok(ctx.Kw_once)) return null;
    return { kind: 'limit', amount, unit, period: word(period), loc: span(tokenLoc(start), tokenLoc(period)) };
  }

  onDecl(ctx: C.OnDeclCstChildren): OnDecl | null {
    const k = tok(ctx.Kw_on);
    const trig = tok(ctx.Kw_signup) ?? tok(ctx.Kw_birthday) ?? tok(ctx.Kw_event);
    if (!k || !trig) return null;
    const trigger = trig.image as OnDecl['trigger'];
    const ev = tok(ctx.StringLit);
    if (trigger === 'event' && !ev) return null;
    const body = this.known<BonusNode | LimitNode>(
      'onDecl',
      inOrder([ctx.bonusStmt, ctx.limitStmt, ctx.unknownStmt]).map((n) => this.visit(n) as BonusNode | LimitNode | Unknown | null),
    );
    const close = tok(ctx.RBrace);
    return { kind: 'on', trigger, triggerLoc: tokenLoc(trig), event: ev ? str(ev) : null, body, loc: span(tokenLoc(k), close ? tokenLoc(close) : tokenLoc(trig)) };
  }

  tiersDecl(ctx: C.TiersDeclCstChildren): TiersDecl | null {
    const k = tok(ctx.Kw_tiers);
    if (!k) return null;
    const body = this.known<TiersDecl['body'][number]>('tiersDecl', inOrder([ctx.qualifyStmt, ctx.tierDef, ctx.keepStmt, ctx.unknownStmt]).map((n) => this.visit(n) as TiersDecl['body'][number] | Unknown | null));
    const close = tok(ctx.RBrace);
    return { kind: 'tiers', body, loc: span(tokenLoc(k), close ? tokenLoc(close) : tokenLoc(k)) };
  }

  qualifyStmt(ctx: C.QualifyStmtCstChildren): QualifyNode | null {
    const k = tok(ctx.Kw_qualify);
    const metric = tok(ctx.Kw_spend) ?? tok(ctx.PointKw) ?? tok(ctx.Kw_orders);
    if (!k || !metric) return null;
    let window: Window | null = null;
    let end = tokenLoc(metric);
    if (tok(ctx.Kw_over)) {
      if (ctx.duration?.[0]) {
        const d = this.visit(ctx.duration[0]) as DurationNode | null;
        if (!d) return null;
        window = { kind: 'rolling', duration: d };
        end = d.loc;
      } else if (tok(ctx.Kw_calendar) && tok(ctx.Kw_year)) {
        end = tokenLoc(tok(ctx.Kw_year)!);
        window = { kind: 'calendar-year', loc: span(tokenLoc(tok(ctx.Kw_calendar)!), end) };
      } else if (tok(ctx.Kw_lifetime)) {
        end = tokenLoc(tok(ctx.Kw_lifetime)!);
        window = { kind: 'lifetime', loc: end };
      } else return null;
    }
    return { kind: 'qualify', metric: { text: metric.image === 'point' ? 'points' : metric.image, loc: tokenLoc(metric) }, window, loc: span(tokenLoc(k), end) };
  }

  tierDef(ctx: C.TierDefCstChildren): TierNode | null {
    const k = tok(ctx.Kw_tier);
    const name = tok(ctx.Identifier);
    const m = tok(ctx.MoneyLit);
    const n = tok(ctx.NumberLit);
    if (!k || !name || (!m && !n)) return null;
    const threshold: Num | MoneyNode = m ? money(m) : num(n!);
    const body = this.known<TierNode['body'][number]>(
      'tierDef',
      inOrder([ctx.multiplierStmt, ctx.discountStmt, ctx.perkStmt, ctx.unknownStmt]).map((x) => this.visit(x) as TierNode['body'][number] | Unknown | null),
    );
    const close = tok(ctx.RBrace);
    return { kind: 'tier', name: word(name), threshold, block: !!tok(ctx.LBrace), body, loc: span(tokenLoc(k), close ? tokenLoc(close) : threshold.loc) };
  }

  keepStmt(ctx: C.KeepStmtCstChildren): KeepNode | null {
    const k = tok(ctx.Kw_keep);
    const d = ctx.duration?.[0] ? (this.visit(ctx.duration[0]) as DurationNode | null) : null;
    if (!k || !d) return null;
    return { kind: 'keep', duration: d, loc: span(tokenLoc(k), d.loc) };
  }

  perkStmt(ctx: C.PerkStmtCstChildren): PerkNode | null {
    const k = tok(ctx.Kw_perk);
    const s = tok(ctx.StringLit);
    if (!k || !s) return null;
    return { kind: 'perk', name: str(s), loc: span(tokenLoc(k), tokenLoc(s)) };
  }

  duration(ctx: C.DurationCstChildren): DurationNode | null {
    const n = tok(ctx.NumberLit);
    const u = tok(ctx.DurationUnit);
    if (!n || !u) return null;
    return { amount: num(n), unit: word(u), loc: span(tokenLoc(n), tokenLoc(u)) };
  }

  clubDecl(ctx: C.ClubDeclCstChildren): ClubDecl | null {
    const k = tok(ctx.Kw_club);
    const name = tok(ctx.StringLit);
    if (!k || !name) return null;
    const body = this.known<ClubDecl['body'][number]>(
      'clubDecl',
      inOrder([ctx.feeStmt, ctx.multiplierStmt, ctx.discountStmt, ctx.perkStmt, ctx.joinBonusStmt, ctx.unknownStmt]).map((x) => this.visit(x) as ClubDecl['body'][number] | Unknown | null),
    );
    const close = tok(ctx.RBrace);
    return { kind: 'club', name: str(name), body, loc: span(tokenLoc(k), close ? tokenLoc(close) : tokenLoc(name)) };
  }

  feeStmt(ctx: C.FeeStmtCstChildren): FeeNode | null {
    const k = tok(ctx.Kw_fee);
    const m = tok(ctx.MoneyLit);
    const per = tok(ctx.Kw_month) ?? tok(ctx.Kw_year);
    if (!k || !m || !per) return null;
    return { kind: 'fee', amount: money(m), per: word(per), loc: span(tokenLoc(k), tokenLoc(per)) };
  }

  discountStmt(ctx: C.DiscountStmtCstChildren): DiscountNode | null {
    const k = tok(ctx.Kw_discount);
    const p = tok(ctx.PercentLit);
    const all = tok(ctx.Kw_everything);
    const everything = all ? tokenLoc(all) : null;
    const categories = ctx.stringList?.[0] ? (this.visit(ctx.stringList[0]) as Str[]) : [];
    if (!k || !p || (categories.length === 0 && !everything)) return null;
    const end = everything ?? categories[categories.length - 1]!.loc;
    return { kind: 'discount', percent: { raw: p.image.slice(0, -1), loc: tokenLoc(p) }, categories, everything, loc: span(tokenLoc(k), end) };
  }

  joinBonusStmt(ctx: C.JoinBonusStmtCstChildren): JoinBonusNode | null {
    const k = tok(ctx.Kw_bonus);
    const n = tok(ctx.NumberLit);
    const j = tok(ctx.Kw_join);
    if (!k || !n || !j) return null;
    return { kind: 'joinBonus', points: num(n), loc: span(tokenLoc(k), tokenLoc(j)) };
  }

  referralDecl(ctx: C.ReferralDeclCstChildren): ReferralDecl | null {
    const k = tok(ctx.Kw_referral);
    if (!k) return null;
    const body = this.known<ReferralStmt>(
      'referralDecl',
      inOrder([ctx.referrerStmt, ctx.refereeStmt, ctx.minOrderStmt, ctx.withinStmt, ctx.referralLimitStmt, ctx.unknownStmt]).map((x) => this.visit(x) as ReferralStmt | Unknown | null),
    );
    const close = tok(ctx.RBrace);
    return { kind: 'referral', body, loc: span(tokenLoc(k), close ? tokenLoc(close) : tokenLoc(k)) };
  }

  referrerStmt(ctx: C.ReferrerStmtCstChildren): ReferralStmt | null {
    const k = tok(ctx.Kw_referrer);
    const n = tok(ctx.NumberLit);
    const p = tok(ctx.PointKw);
    if (!k || !n || !p) return null;
    return { kind: 'referrer', points: num(n), loc: span(tokenLoc(k), tokenLoc(p)) };
  }

  refereeStmt(ctx: C.RefereeStmtCstChildren): ReferralStmt | null {
    const k = tok(ctx.Kw_referee);
    const n = tok(ctx.NumberLit);
    const p = tok(ctx.PointKw);
    if (!k || !n || !p) return null;
    return { kind: 'referee', points: num(n), loc: span(tokenLoc(k), tokenLoc(p)) };
  }

  minOrderStmt(ctx: C.MinOrderStmtCstChildren): ReferralStmt | null {
    const k = tok(ctx.Kw_min);
    const m = tok(ctx.MoneyLit);
    if (!k || !m || !tok(ctx.Kw_order)) return null;
    return { kind: 'minOrder', amount: money(m), loc: span(tokenLoc(k), tokenLoc(m)) };
  }

  withinStmt(ctx: C.WithinStmtCstChildren): ReferralStmt | null {
    const k = tok(ctx.Kw_within);
    const d = ctx.duration?.[0] ? (this.visit(ctx.duration[0]) as DurationNode | null) : null;
    if (!k || !d) return null;
    return { kind: 'within', duration: d, loc: span(tokenLoc(k), d.loc) };
  }

  referralLimitStmt(ctx: C.ReferralLimitStmtCstChildren): ReferralStmt | null {
    const k = tok(ctx.Kw_limit);
    const n = tok(ctx.NumberLit);
    const y = tok(ctx.Kw_year);
    if (!k || !n || !y || !tok(ctx.Kw_per)) return null;
    return { kind: 'referralLimit', count: num(n), loc: span(tokenLoc(k), tokenLoc(y)) };
  }

  redeemDecl(ctx: C.RedeemDeclCstChildren): RedeemDecl | null {
    const k = tok(ctx.Kw_redeem);
    if (!k) return null;
    const body = this.known<RedeemStmt>('redeemDecl', inOrder([ctx.redeemRateStmt, ctx.redeemMinStmt, ctx.redeemMaxStmt, ctx.unknownStmt]).map((x) => this.visit(x) as RedeemStmt | Unknown | null));
    const close = tok(ctx.RBrace);
    return { kind: 'redeem', body, loc: span(tokenLoc(k), close ? tokenLoc(close) : tokenLoc(k)) };
  }

  redeemRateStmt(ctx: C.RedeemRateStmtCstChildren): RedeemStmt | null {
    const k = tok(ctx.Kw_rate);
    const n = tok(ctx.NumberLit);
    const m = tok(ctx.MoneyLit);
    if (!k || !n || !m || !tok(ctx.PointKw) || !tok(ctx.Equals)) return null;
    return { kind: 'redeemRate', points: num(n), value: money(m), loc: span(tokenLoc(k), tokenLoc(m)) };
  }

  redeemMinStmt(ctx: C.RedeemMinStmtCstChildren): RedeemStmt | null {
    const k = tok(ctx.Kw_min);
    const n = tok(ctx.NumberLit);
    const p = tok(ctx.PointKw);
    if (!k || !n || !p) return null;
    return { kind: 'redeemMin', points: num(n), loc: span(tokenLoc(k), tokenLoc(p)) };
  }

  redeemMaxStmt(ctx: C.RedeemMaxStmtCstChildren): RedeemStmt | null {
    const k = tok(ctx.Kw_max);
    const p = tok(ctx.PercentLit);
    const o = tok(ctx.Kw_order);
    if (!k || !p || !o || !tok(ctx.Kw_of)) return null;
    return { kind: 'redeemMax', percent: { raw: p.image.slice(0, -1), loc: tokenLoc(p) }, loc: span(tokenLoc(k), tokenLoc(o)) };
  }

  expireDecl(ctx: C.ExpireDeclCstChildren): ExpireDecl | null {
    const k = tok(ctx.Kw_expire);
    if (!k) return null;
    const body = this.known<AfterNode>('expireDecl', inOrder([ctx.afterStmt, ctx.unknownStmt]).map((x) => this.visit(x) as AfterNode | Unknown | null));
    const close = tok(ctx.RBrace);
    return { kind: 'expire', body, loc: span(tokenLoc(k), close ? tokenLoc(close) : tokenLoc(k)) };
  }

  afterStmt(ctx: C.AfterStmtCstChildren): AfterNode | null {
    const k = tok(ctx.Kw_after);
    const d = ctx.duration?.[0] ? (this.visit(ctx.duration[0]) as DurationNode | null) : null;
    if (!k || !d) return null;
    const ina = tok(ctx.Kw_inactivity);
    return { kind: 'after', duration: d, inactivity: !!ina, loc: span(tokenLoc(k), ina ? tokenLoc(ina) : d.loc) };
  }

  rewardDecl(ctx: C.RewardDeclCstChildren): RewardDecl | null {
    const k = tok(ctx.Kw_reward);
    const name = tok(ctx.StringLit);
    if (!k || !name) return null;
    const body = this.known<RewardStmt>(
      'rewardDecl',
      inOrder([ctx.costStmt, ctx.whenCond, ctx.limitStmt, ctx.valueStmt, ctx.unknownStmt]).map((x) => this.visit(x) as RewardStmt | Unknown | null),
    );
    const close = tok(ctx.RBrace);
    return { kind: 'reward', name: str(name), body, loc: span(tokenLoc(k), close ? tokenLoc(close) : tokenLoc(name)) };
  }

  challengeDecl(ctx: C.ChallengeDeclCstChildren): ChallengeDecl | null {
    const k = tok(ctx.Kw_challenge);
    const name = tok(ctx.StringLit);
    if (!k || !name) return null;
    const body = this.known<ChallengeStmt>(
      'challengeDecl',
      inOrder([ctx.goalStmt, ctx.categoryFilter, ctx.skuFilter, ctx.excludeStmt, ctx.bonusStmt, ctx.unknownStmt]).map((x) => {
        const r = this.visit(x) as ChallengeStmt | ExcludeNode | Unknown | null;
        return r && r.kind === 'exclude' ? { kind: 'filter', target: r.target, exclude: true, values: r.values, loc: r.loc } : r;
      }),
    );
    const close = tok(ctx.RBrace);
    return { kind: 'challenge', name: str(name), body, loc: span(tokenLoc(k), close ? tokenLoc(close) : tokenLoc(name)) };
  }

  goalStmt(ctx: C.GoalStmtCstChildren): GoalNode | null {
    const k = tok(ctx.Kw_orders) ?? tok(ctx.Kw_spend);
    const n = tok(ctx.NumberLit);
    const m = tok(ctx.MoneyLit);
    const period = tok(ctx.PeriodKw);
    if (!k || (!n && !m) || !period || !tok(ctx.Kw_per)) return null;
    const metric = k.image === 'orders' ? 'orders' : 'spend';
    if ((metric === 'orders') !== !!n) return null;
    return { kind: 'goal', metric, metricLoc: tokenLoc(k), amount: n ? num(n) : money(m!), period: word(period), loc: span(tokenLoc(k), tokenLoc(period)) };
  }

  costStmt(ctx: C.CostStmtCstChildren): CostNode | null {
    const k = tok(ctx.Kw_cost);
    const n = tok(ctx.NumberLit);
    const p = tok(ctx.PointKw);
    if (!k || !n || !p) return null;
    return { kind: 'cost', points: num(n), loc: span(tokenLoc(k), tokenLoc(p)) };
  }

  valueStmt(ctx: C.ValueStmtCstChildren): ValueNode | null {
    const k = tok(ctx.Kw_value);
    const m = tok(ctx.MoneyLit);
    if (!k || !m) return null;
    return { kind: 'value', amount: money(m), loc: span(tokenLoc(k), tokenLoc(m)) };
  }

  expr(ctx: C.ExprCstChildren): Expr | null {
    return this.chain(ctx.andExpr, 'or');
  }

  andExpr(ctx: C.AndExprCstChildren): Expr | null {
    return this.chain(ctx.notExpr, 'and');
  }

  private chain(parts: CstNode[] | undefined, kind: 'or' | 'and'): Expr | null {
    const xs = (parts ?? []).map((p) => this.visit(p) as Expr | null);
    if (xs.length === 0 || xs.some((x) => !x)) return null;
    return (xs as Expr[]).reduce((left, right) => ({ kind, left, right, loc: span(left.loc, right.loc) }));
  }

  notExpr(ctx: C.NotExprCstChildren): Expr | null {
    const k = tok(ctx.Kw_not);
    if (k) {
      const operand = ctx.notExpr?.[0] ? (this.visit(ctx.notExpr[0]) as Expr | null) : null;
      if (!operand) return null;
      return { kind: 'not', operand, loc: span(tokenLoc(k), operand.loc) };
    }
    return ctx.comparison?.[0] ? (this.visit(ctx.comparison[0]) as Expr | null) : null;
  }

  comparison(ctx: C.ComparisonCstChildren): Expr | null {
    const left = ctx.operand?.[0] ? (this.visit(ctx.operand[0]) as Expr | null) : null;
    if (!left) return null;
    const op = tok(ctx.CmpOp);
    if (!op) return ctx.CmpOp?.length ? null : left;
    const right = ctx.operand?.[1] ? (this.visit(ctx.operand[1]) as Expr | null) : null;
    if (!right) return null;
    return { kind: 'cmp', op: op.image as CmpOp, opLoc: tokenLoc(op), left, right, loc: span(left.loc, right.loc) };
  }

  operand(ctx: C.OperandCstChildren, ): Expr | null {
    if (ctx.LParen) {
      const open = tok(ctx.LParen);
      const close = tok(ctx.RParen);
      const inner = ctx.expr?.[0] ? (this.visit(ctx.expr[0]) as Expr | null) : null;
      if (!open || !close || !inner) return null;
      return { kind: 'paren', expr: inner, loc: span(tokenLoc(open), tokenLoc(close)) };
    }
    const first = tok(ctx.Kw_first);
    if (first) {
      const o = tok(ctx.Kw_order);
      return o ? { kind: 'firstOrder', loc: span(tokenLoc(first), tokenLoc(o)) } : null;
    }
    const order = tok(ctx.Kw_order);
    if (order) {
      const prop = tok(ctx.Kw_total) ?? tok(ctx.Kw_items) ?? tok(ctx.Kw_channel);
      if (!prop || !tok(ctx.Dot)) return null;
      const loc = span(tokenLoc(order), tokenLoc(prop));
      return prop.image === 'total' ? { kind: 'orderTotal', loc } : prop.image === 'items' ? { kind: 'orderItems', loc } : { kind: 'orderChannel', loc };
    }
    const member = tok(ctx.Kw_member);
    if (member) {
      if (!tok(ctx.Dot)) return null;
      const t = tok(ctx.Kw_tier);
      if (t) return { kind: 'memberTier', loc: span(tokenLoc(member), tokenLoc(t)) };
      const name = tok(ctx.StringLit);
      if (!tok(ctx.Kw_club) || !name) return null;
      return { kind: 'memberClub', name: str(name), loc: span(tokenLoc(member), tokenLoc(name)) };
    }
    const m = tok(ctx.MoneyLit);
    if (m) return { kind: 'money', value: money(m), loc: tokenLoc(m) };
    const n = tok(ctx.NumberLit);
    if (n) return { kind: 'number', value: num(n), loc: tokenLoc(n) };
    const s = tok(ctx.StringLit);
    if (s) return { kind: 'string', value: str(s), loc: tokenLoc(s) };
    const id = tok(ctx.Identifier);
    if (id) return { kind: 'tierName', name: word(id), loc: tokenLoc(id) };
    return null;
  }
}

/** Children of several kinds, back in source order. */
function inOrder(groups: (CstNode[] | undefined)[]): CstNode[] {
  return groups.flatMap((g) => g ?? []).sort((a, b) => (a.location?.startOffset ?? 0) - (b.location?.startOffset ?? 0));
}

const builder = new AstBuilder();

export function buildAst(cst: CstNode, comments: IToken[]): ProgramAst {
  const ast = builder.visit(cst) as ProgramAst;
  ast.comments = comments.map((c) => ({ text: c.image, loc: tokenLoc(c) }));
  return ast;
}
