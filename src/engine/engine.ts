// Evaluation: the program, member states and an event come in; new states
// and ledger entries come out. Pure and deterministic: no clock, no I/O.
// Section numbers refer to ../shared/spec/dsl.md.
import type { Duration, Discount, Period, Program, Rule, Tier } from '../../dsl/program.ts';
import { civilFromDays, daysFromCivil } from '../../dsl/values.ts';
import { addRat, mulDivFloor, mulMulDivFloor, ratGte, type Rat } from './arith.ts';
import { DAY, formatInstant, parseBirthday, zoneFor } from './time.ts';
import type { EngineEvent, LedgerEntry, MemberEvent, MemberState, OrderLine, OrderLineRec, Outcome, Vesting, World } from './types.ts';
import { generateOrderFn } from './codegen.ts';
import { activeClubs, contribute, discountsApply, isActive, lineDiscount, lineMask, newScratch, periodKey, tierIndexOf, type OrderCalc, type OrderScratch, type Plan } from './plan.ts';
import { formatCurrency, refusal, type Refusal } from './refusals.ts';
import { currentOrder, currentState, EARLIER, NEVER, scanVestings } from './state.ts';

export type { OrderCalc, Plan } from './plan.ts';
export { periodKey, tierIndexOf } from './plan.ts';

// ---------------------------------------------------------------------------
// The plan: what is derived once from a compiled program (plan.ts).

const plans = new WeakMap<Program, Plan>();

export function planFor(program: Program): Plan {
  const known = plans.get(program);
  if (known) return known;
  const discounts = new Map<string, [number, number, number][]>();
  const discountsAll: [number, number, number][] = [];
  const addDiscount = (source: number, d: Discount) => {
    const rec: [number, number, number] = [source, d.percent.n, d.percent.d];
    if (d.categories === null) discountsAll.push(rec);
    else
      for (const cat of d.categories) {
        let xs = discounts.get(cat);
        if (!xs) discounts.set(cat, (xs = []));
        xs.push(rec);
      }
  };
  for (const t of program.tiers) for (const d of t.discounts) addDiscount(-1 - t.index, d);
  for (const c of program.clubs) for (const d of c.discounts) addDiscount(c.index, d);
  const w = program.window;
  const limitNames: string[] = [];
  const ruleSlot = program.rules.map((r) => (r.limit && r.limit.period !== 'order' ? limitNames.push(r.name) - 1 : -1));
  const eventSlot = new Map<string, number>();
  for (const e of program.events.values()) if (e.limit) eventSlot.set(e.name, limitNames.push(`event:${e.name}`) - 1);
  const rewardSlot = program.rewards.map((r) => (r.limit ? limitNames.push(r.rule) - 1 : -1));
  const clubNames = program.clubs.map((c) => c.name);
  const challengeKeys = program.challenges.map((c) => `${c.name} (${c.goal.metric} per ${c.goal.period})`);
  const metricKey = program.metric ? `${program.metric}/${w.kind === 'rolling' ? `${w.duration.amount} ${w.duration.unit}` : w.kind}` : '';
  const base: Omit<Plan, 'orderFn'> = {
    program,
    zone: zoneFor(program.timezone),
    tierIndex: new Map(program.tiers.map((t) => [t.name, t.index])),
    metricKey,
    limitNames,
    ruleSlot,
    eventSlot,
    rewardSlot,
    clubNames,
    challengeKeys,
    // Without challenges the layout is what it was before they existed, so
    // that stored states need no re-mapping.
    layout: JSON.stringify(challengeKeys.length ? [metricKey, limitNames, clubNames, challengeKeys] : [metricKey, limitNames, clubNames]),
    needsLocal: program.rules.some((r) => r.usesLocalTime || (r.limit !== null && r.limit.period !== 'order' && r.limit.period !== 'member')),
    discounts,
    discountsAll,
    clubDiscounts: program.clubs.some((c) => c.discounts.length > 0),
    tierDiscounts: program.tiers.map((t) => t.discounts.length > 0),
    noClubs: program.clubs.map(() => false),
    masks: program.rules.length <= 30 ? new Map() : null,
  };
  const plan: Plan = { ...base, orderFn: generateOrderFn(base) };
  plans.set(program, plan);
  return plan;
}

// ---------------------------------------------------------------------------
// An evaluation: the program's plan (plan.ts, derived once) and the scratch
// state one evaluation writes, with where its entries and orders go.

interface Memo {
  input: number;
  output: number;
}

/** Where entries and new orders go, and which order evaluation runs. */
export interface EvaluationOptions {
  /** Ledger entries go here instead of into `Outcome.entries`. */
  entrySink?: EntrySink;
  /** New accepted orders go here instead of into `Outcome.order`. */
  orderSink?: OrderSink;
  /** 'generated' (default): the program's generated order function;
   * 'reference': computeOrder (tests compare the two). */
  orders?: 'generated' | 'reference';
}

export interface Evaluation extends OrderScratch {
  readonly plan: Plan;
  readonly sink: EntrySink | null;
  readonly orderSink: OrderSink | null;
  readonly reference: boolean;
  /** Memos of `at + duration` for lot expiry, the tier window and inactivity. */
  readonly lotMemo: Memo;
  readonly windowMemo: Memo;
}

const shared = new WeakMap<Program, Evaluation>();

/** An evaluation of `program`: without options, one shared per program (its
 * scratch is used and read within one call); with options, a new one that
 * the caller keeps (replay makes one with its sinks). */
export function evaluation(program: Program, opts?: EvaluationOptions): Evaluation {
  if (opts === undefined) {
    let ev = shared.get(program);
    if (ev === undefined) shared.set(program, (ev = newEvaluation(planFor(program), {})));
    return ev;
  }
  return newEvaluation(planFor(program), opts);
}

function evaluationFor(program: Program, given: Evaluation | undefined): Evaluation {
  if (given === undefined) return evaluation(program);
  if (given.plan.program !== program) throw new Error('the evaluation given is of another program');
  return given;
}

function newEvaluation(plan: Plan, opts: EvaluationOptions): Evaluation {
  const w = plan.program.window;
  const lotMemo: Memo = { input: NaN, output: NaN };
  // Lots and the tier window often share a duration (12 months): one
  // computation serves both entries of an order.
  const exp = plan.program.expire?.after;
  const sameDuration = exp !== undefined && w.kind === 'rolling' && exp.amount === w.duration.amount && exp.unit === w.duration.unit;
  return {
    plan,
    sink: opts.entrySink ?? null,
    orderSink: opts.orderSink ?? null,
    reference: opts.orders === 'reference',
    lotMemo,
    windowMemo: sameDuration ? lotMemo : { input: NaN, output: NaN },
    ...newScratch(),
  };
}

/** `ms + d` on the program's wall clock, memoized for the common case of
 * several entries at the same instant. */
function addDuration(rt: Evaluation, m: Memo, ms: number, d: Duration): number {
  if (m.input !== ms) {
    m.input = ms;
    m.output = rt.plan.zone.add(ms, d);
  }
  return m.output;
}

// ---------------------------------------------------------------------------
// Member state

export function newMember(rt: Evaluation, id: string, at: number, birthday: string | null, referrer: string | null): MemberState {
  const s: MemberState = {
    v: 7,
    id,
    signupAt: at,
    birthday,
    referrer,
    at,
    balance: 0,
    orders: 0,
    tier: rt.plan.program.tiers[0]?.name ?? null,
    graceUntil: null,
    tierDue: EARLIER,
    due: NEVER,
    layout: rt.plan.layout,
    metricEntries: [],
    metricSum: 0,
    metricFractional: 0,
    life: [0, 1],
    limitUses: new Array<number>(2 * rt.plan.limitNames.length).fill(0),
    clubs: new Array<number | null>(2 * rt.plan.clubNames.length).fill(null),
    refYear: 0,
    refCount: 0,
    nextBirthday: null,
    lots: [],
    lotsInOrder: true,
    deficit: 0,
    inactiveAt: null,
    challenges: new Array<number>(3 * rt.plan.challengeKeys.length).fill(0),
    vesting: [],
    vestingNames: [],
    nextVestAt: NEVER,
    lastVestAt: EARLIER,
    vestingInOrder: true,
  };
  // Only birthdays after signup: the first one due strictly after it.
  s.nextBirthday = birthdayAfter(rt, birthday, at);
  return s;
}

/** A state written under another program version: limit uses and club
 * memberships are re-mapped by name, the tier metric history is re-dated for
 * a new window, or restarted for a new metric. */
export function prepare(rt: Evaluation, s: MemberState): void {
  if (s.layout === rt.plan.layout) return;
  const p = rt.plan.program;
  const [oldMetric, oldLimits, oldClubs, oldChallenges = []] = JSON.parse(s.layout) as [string, string[], string[], string[]?];
  /** Groups of `size` values by name, re-mapped to the new names. */
  const remap = <T>(names: readonly string[], values: T[], newNames: readonly string[], none: T, size = 2): T[] =>
    newNames.flatMap((n) => {
      const i = names.indexOf(n);
      const group = values.slice(size * i, size * i + size);
      return i < 0 || group.length < size ? new Array<T>(size).fill(none) : group;
    });
  s.limitUses = remap(oldLimits, s.limitUses, rt.plan.limitNames, 0);
  s.clubs = remap(oldClubs, s.clubs, rt.plan.clubNames, null);
  // A challenge keeps its progress under another version when its name, goal
  // metric and period stay (a new goal amount counts on from it); a state
  // from before challenges has none.
  s.challenges = remap(oldChallenges, s.challenges ?? [], rt.plan.challengeKeys, 0, 3);
  if (oldMetric !== rt.plan.metricKey) {
    const sameMetric = oldMetric.split('/')[0] === (p.metric ?? '');
    const old = s.metricEntries;
    s.metricEntries = [];
    s.metricSum = 0;
    s.metricFractional = 0;
    const life = s.life;
    s.life = [0, 1];
    s.layout = rt.plan.layout;
    if (sameMetric) {
      if (oldMetric.endsWith('/lifetime') && p.window.kind === 'lifetime') s.life = life;
      else for (let i = 0; i < old.length; i += M) addMetric(rt, s, old[i]!, old[i + 2]!, old[i + 3]!, old[i + 4]!);
    }
  }
  s.layout = rt.plan.layout;
  s.tierDue = EARLIER;
  if (s.tier !== null && !rt.plan.tierIndex.has(s.tier)) s.tier = p.tiers[0]?.name ?? null;
  if (s.tier === null && p.tiers.length) s.tier = p.tiers[0]!.name;
}

function entry(rt: Evaluation, out: LedgerEntry[], s: MemberState, at: number, kind: LedgerEntry['kind'], points: number, rule: string | null, ref: string | null, line: number | null): void {
  if (rt.sink !== null) rt.sink(s.id, at, kind, points, rule, ref, line);
  else out.push({ member: s.id, at, kind, points, rule, ref, line, version: rt.plan.program.hash });
}

/** Receives ledger entries as they are written (instead of as objects in
 * `Outcome.entries`): replay stores millions of them in columns. */
export type EntrySink = (member: string, at: number, kind: LedgerEntry['kind'], points: number, rule: string | null, ref: string | null, line: number | null) => void;

/** An earn entry: the balance, the lots (4.7) and the inactivity clock. */
function earn(rt: Evaluation, s: MemberState, at: number, points: number, rule: string, ref: string | null, line: number | null, out: LedgerEntry[]): void {
  entry(rt, out, s, at, 'earn', points, rule, ref, line);
  const exp = rt.plan.program.expire;
  if (exp?.mode === 'inactivity') {
    s.balance += points;
    s.inactiveAt = addDuration(rt, rt.lotMemo, at, exp.after);
    return;
  }
  addToLots(rt, s, at, points);
}

/** Points entering the balance at `at`: under `expire after D` they first
 * cover a deficit, and the rest forms a lot due D later (4.7). */
function addToLots(rt: Evaluation, s: MemberState, at: number, points: number): void {
  s.balance += points;
  const exp = rt.plan.program.expire;
  if (exp?.mode !== 'lots') return;
  // While the balance is negative, new points first cover the deficit.
  let rest = points;
  if (s.deficit > 0) {
    const cover = Math.min(s.deficit, rest);
    s.deficit -= cover;
    rest -= cover;
  }
  if (rest <= 0) return;
  const due = addDuration(rt, rt.lotMemo, at, exp.after);
  const lots = s.lots;
  const n = lots.length;
  if (n > 0 && lots[n - 2] === due) lots[n - 1]! += rest;
  else {
    if (n > 0 && due < lots[n - 2]!) s.lotsInOrder = false;
    lots.push(due, rest);
  }
}

/** Removes the first k elements. Each shift() moves the whole array up
 * (V8 left-trims only large arrays), so beyond two elements one splice is
 * cheaper, though it allocates the array it returns: measured on number
 * arrays of 20–1000 elements, removing 5 (a tier-metric entry) or 10 (a
 * vesting) costs 1–5 × more by shifts, removing 2 (a lot) about the same.
 * copyWithin is slower still. */
function dropFront<T>(a: T[], k: number): void {
  if (k > 2) a.splice(0, k);
  else for (let i = 0; i < k; i++) a.shift();
}

/** When the next lot expires. Lots are kept in the order they were earned
 * (redemptions take the oldest first), and their expiry times are in that
 * order too — except around a DST change, where a day later on the wall
 * clock can come sooner for a later lot. So then: the smallest, by a scan. */
function nextLotDue(s: MemberState): number {
  const lots = s.lots;
  if (lots.length === 0) return Infinity;
  if (s.lotsInOrder) return lots[0]!;
  let m = Infinity;
  for (let i = 0; i < lots.length; i += 2) if (lots[i]! < m) m = lots[i]!;
  return m;
}

/** Removes every lot due at `at`; returns their points. */
function takeLotsDue(s: MemberState, at: number): number {
  const lots = s.lots;
  let pts = 0;
  if (s.lotsInOrder) {
    let k = 0;
    while (k < lots.length && lots[k] === at) {
      pts += lots[k + 1]!;
      k += 2;
    }
    dropFront(lots, k);
    return pts;
  }
  let w = 0;
  for (let i = 0; i < lots.length; i += 2) {
    if (lots[i] === at) pts += lots[i + 1]!;
    else {
      lots[w++] = lots[i]!;
      lots[w++] = lots[i + 1]!;
    }
  }
  lots.length = w;
  if (w === 0) s.lotsInOrder = true;
  return pts;
}

/** Points leaving the balance (redeem, reverse): the oldest lots first. */
function consume(rt: Evaluation, s: MemberState, points: number): void {
  s.balance -= points;
  if (rt.plan.program.expire?.mode !== 'lots') return;
  const lots = s.lots;
  let left = points;
  let k = 0;
  while (left > 0 && k < lots.length) {
    const take = Math.min(lots[k + 1]!, left);
    lots[k + 1]! -= take;
    left -= take;
    if (lots[k + 1] === 0) k += 2;
  }
  if (k) {
    dropFront(lots, k);
    if (lots.length === 0) s.lotsInOrder = true;
  }
  s.deficit += left;
}

// ---------------------------------------------------------------------------
// Tier metric and evaluation (4.5)

/** Numbers per tier-metric entry in MemberState.metricEntries. */
const M = 5;

/** A contribution to the tier metric; `seq` is the order's number (0: not an order). */
function addMetric(rt: Evaluation, s: MemberState, at: number, num: number, den: number, seq: number): void {
  const p = rt.plan.program;
  if (!p.metric || num === 0) return;
  const w = p.window;
  if (w.kind === 'lifetime') {
    s.life = addRat(s.life, [num, den]);
    return;
  }
  const exit = w.kind === 'rolling' ? addDuration(rt, rt.windowMemo, at, w.duration) : rt.plan.zone.startOfYear(rt.plan.zone.localYear(at) + 1);
  const m = s.metricEntries;
  // Kept in the order entries leave the window (usually the order they come
  // in; not always around a DST change).
  let i = m.length;
  while (i > 0 && m[i - M + 1]! > exit) i -= M;
  if (i === m.length) m.push(at, exit, num, den, seq);
  else m.splice(i, 0, at, exit, num, den, seq);
  if (den === 1) s.metricSum += num;
  else s.metricFractional++;
}

/** Change the metric contribution of an order (refunds), wherever it is:
 * an order's number `seq` (> 0) marks its one entry, dated at the order or,
 * for pending points, at their vesting. */
function adjustOrderMetric(rt: Evaluation, s: MemberState, seq: number, delta: Rat): void {
  const p = rt.plan.program;
  if (!p.metric || delta[0] === 0) return;
  s.tierDue = EARLIER; // a value went down: the tier may drop sooner
  if (p.window.kind === 'lifetime') {
    s.life = addRat(s.life, delta);
    return;
  }
  const m = s.metricEntries;
  for (let i = m.length - M; i >= 0; i -= M) {
    if (m[i + 4] === seq) {
      if (m[i + 3] === 1) s.metricSum -= m[i + 2]!;
      else s.metricFractional--;
      const v = addRat([m[i + 2]!, m[i + 3]!], delta);
      m[i + 2] = v[0];
      m[i + 3] = v[1];
      if (v[1] === 1) s.metricSum += v[0];
      else s.metricFractional++;
      return;
    }
  }
  // The order has left the window: nothing counts any more.
}

/** Drops the entries that have left the window by `t`. */
function pruneMetric(s: MemberState, t: number): void {
  const m = s.metricEntries;
  let k = 0;
  while (k < m.length && m[k + 1]! <= t) {
    if (m[k + 3] === 1) s.metricSum -= m[k + 2]!;
    else s.metricFractional--;
    k += M;
  }
  if (k) dropFront(m, k);
}

/** The qualifying value at `t` when it is a whole number and the entries
 * are pruned to `t` (the usual case); NaN otherwise. */
function metricFast(rt: Evaluation, s: MemberState, t: number): number {
  if (rt.plan.program.window.kind === 'lifetime') return s.life[1] === 1 ? s.life[0] : NaN;
  return s.metricFractional === 0 && (s.metricEntries.length === 0 || s.metricEntries[1]! > t) ? s.metricSum : NaN;
}

/** The qualifying value at `t`, exactly. */
export function metricValue(rt: Evaluation, s: MemberState, t: number): Rat {
  if (rt.plan.program.window.kind === 'lifetime') return s.life;
  // Already pruned to `t` (the usual case): the running sum.
  const m = s.metricEntries;
  if (s.metricFractional === 0 && (m.length === 0 || m[1]! > t)) return [s.metricSum, 1];
  let v: Rat = [0, 1];
  for (let i = 0; i < m.length; i += M) if (m[i + 1]! > t) v = addRat(v, [m[i + 2]!, m[i + 3]!]);
  return v;
}

/** The highest tier whose threshold the value reaches (`v`, or the whole number `n` when `v` is null). */
function tierFor(tiers: readonly Tier[], v: Rat | null, n: number): number {
  let i = 0;
  if (v === null || v[1] === 1) {
    const x = v === null ? n : v[0];
    for (let k = 1; k < tiers.length; k++) if (x >= tiers[k]!.threshold) i = k;
    return i;
  }
  for (let k = 1; k < tiers.length; k++) if (ratGte(v, [tiers[k]!.threshold, 1])) i = k;
  return i;
}

export function evaluateTier(rt: Evaluation, s: MemberState, t: number): void {
  const tiers = rt.plan.program.tiers;
  if (!tiers.length) return;
  pruneMetric(s, t);
  const fast = metricFast(rt, s, t);
  const computed = tierFor(tiers, fast === fast ? null : metricValue(rt, s, t), fast);
  const current = tierIndexOf(rt.plan, s);
  if (computed >= current) {
    if (computed !== current || s.graceUntil !== null) s.tierDue = EARLIER;
    if (computed !== current) s.tier = tiers[computed]!.name;
    s.graceUntil = null;
    return;
  }
  s.tierDue = EARLIER;
  const keep = rt.plan.program.keep;
  if (!keep) {
    s.tier = tiers[computed]!.name;
  } else if (s.graceUntil === null) {
    s.graceUntil = rt.plan.zone.add(t, keep);
  } else if (t >= s.graceUntil) {
    s.tier = tiers[computed]!.name;
    s.graceUntil = null;
  }
}

/** When the member's tier could next change with time alone (or a time to
 * look again, a little early). */
function tierDue(rt: Evaluation, s: MemberState): number {
  const tiers = rt.plan.program.tiers;
  if (!tiers.length) return Infinity;
  if (s.graceUntil !== null) return s.graceUntil;
  const idx = tierIndexOf(rt.plan, s);
  if (idx <= 0 || rt.plan.program.window.kind === 'lifetime') return Infinity;
  // Entries that left the window by now no longer count (bringTo may have
  // skipped them: they could not change the tier).
  pruneMetric(s, s.at);
  const threshold = tiers[idx]!.threshold;
  const m = s.metricEntries;
  const fast = metricFast(rt, s, s.at);
  const v0: Rat | null = fast === fast ? null : metricValue(rt, s, s.at);
  if (v0 === null || v0[1] === 1) {
    // Entries leave in order. Walk at most a few: past them, the member is
    // due for a (cheap) re-check rather than an exact answer now.
    let n = v0 === null ? fast : v0[0];
    let walked = 0;
    for (let i = 0; i < m.length; i += M) {
      const exit = m[i + 1]!;
      if (exit <= s.at) continue;
      if (m[i + 3] !== 1) return exit;
      n -= m[i + 2]!;
      if (n < threshold || ++walked === 16) return exit;
    }
    return Infinity;
  }
  let v: Rat = v0;
  for (let i = 0; i < m.length; i += M) {
    if (m[i + 1]! <= s.at) continue;
    v = addRat(v, [-m[i + 2]!, m[i + 3]!]);
    if (!ratGte(v, [threshold, 1])) return m[i + 1]!;
  }
  return Infinity;
}

// ---------------------------------------------------------------------------
// Time (4.1)

/** Brings a member to `t`: expiries, vestings and birthday bonuses due by
 * then, in date order (on the same instant: expiry, vesting, birthday), then
 * the tier. */
export function bringTo(rt: Evaluation, s: MemberState, t: number, out: LedgerEntry[]): void {
  // Nothing falls due before `s.due`, and the tier was evaluated after the
  // member's last change: bringing it forward only moves its clock.
  if (s.layout === rt.plan.layout && t < s.due) {
    if (t > s.at) s.at = t;
    return;
  }
  prepare(rt, s);
  const p = rt.plan.program;
  const exp = p.expire;
  const bday = p.birthday;
  // Only vesting changes the vestings: the next one is looked up once, and
  // then given by vest().
  let v = s.nextVestAt;
  for (;;) {
    let e = Infinity;
    if (exp) {
      if (exp.mode === 'lots') e = nextLotDue(s);
      else if (s.inactiveAt !== null) e = s.inactiveAt;
    }
    const b = s.nextBirthday ?? Infinity;
    // On the same instant: expiry, then vesting, then the birthday bonus.
    if (e <= t && e <= b && e <= v) {
      if (exp!.mode === 'lots') {
        // All lots that fall due at the same instant leave in one entry.
        const pts = takeLotsDue(s, e);
        if (pts > 0) {
          entry(rt, out, s, e, 'expire', -pts, null, null, exp!.line);
          s.balance -= pts;
        }
      } else {
        if (s.balance > 0) {
          entry(rt, out, s, e, 'expire', -s.balance, null, null, exp!.line);
          s.balance = 0;
        }
        s.inactiveAt = null;
      }
    } else if (v <= t && v <= b) {
      v = vest(rt, s, v, out);
    } else if (b <= t) {
      if (bday && bday.points > 0) {
        earn(rt, s, b, bday.points, 'birthday', null, bday.line, out);
        if (p.metric === 'points') addMetric(rt, s, b, bday.points, 1, 0);
      }
      const bd = parseBirthday(s.birthday!)!;
      s.nextBirthday = rt.plan.zone.birthdayIn(rt.plan.zone.localYear(b) + 1, bd.m, bd.d);
    } else break;
  }
  if (t > s.at) s.at = t;
  evaluateTier(rt, s, t);
}

// ---------------------------------------------------------------------------
// Pending points (4.9)

/** Writes every vesting due at instant `at` (the first due), in the order
 * the orders were placed: each non-zero contribution an `earn` entry dated
 * `at` (a lot, activity), and their sum in the `points` tier metric at `at`.
 * Returns when the next of those left vests (s.nextVestAt after it; NEVER: none). */
function vest(rt: Evaluation, s: MemberState, at: number, out: LedgerEntry[]): number {
  const vs = s.vesting;
  const names = s.vestingNames;
  if (s.vestingInOrder) {
    // Those due are the first ones, taken off the front.
    let i = 0;
    let j = 0;
    while (i < vs.length && vs[i] === at) {
      writeVesting(rt, s, at, i, j, out);
      j += 1 + vs[i + 2]!;
      i += 3 + 2 * vs[i + 2]!;
    }
    dropFront(vs, i);
    dropFront(names, j);
  } else {
    // Any of them may be due: the others move up in place, and when they
    // vest is read again from what is left.
    let kept = 0;
    let keptNames = 0;
    for (let i = 0, j = 0; i < vs.length; ) {
      const n = vs[i + 2]!;
      if (vs[i] !== at) {
        for (let k = 0; k < 3 + 2 * n; k++) vs[kept + k] = vs[i + k]!;
        for (let k = 0; k <= n; k++) names[keptNames + k] = names[j + k]!;
        kept += 3 + 2 * n;
        keptNames += 1 + n;
      } else writeVesting(rt, s, at, i, j, out);
      i += 3 + 2 * n;
      j += 1 + n;
    }
    vs.length = kept;
    names.length = keptNames;
    scanVestings(s);
    return s.nextVestAt;
  }
  // The rest are still in order: the first vests next.
  s.nextVestAt = vs.length > 0 ? vs[0]! : NEVER;
  if (vs.length === 0) s.lastVestAt = EARLIER;
  return s.nextVestAt;
}

/** Writes the vesting at [i, j) of the member's lists, vesting at `at`. */
function writeVesting(rt: Evaluation, s: MemberState, at: number, i: number, j: number, out: LedgerEntry[]): void {
  const vs = s.vesting;
  const names = s.vestingNames;
  const n = vs[i + 2]!;
  let sum = 0;
  for (let c = 0; c < n; c++) {
    const points = vs[i + 3 + 2 * c]!;
    if (points <= 0) continue;
    const line = vs[i + 4 + 2 * c]!;
    earn(rt, s, at, points, names[j + 1 + c]!, names[j]!, line === 0 ? null : line, out);
    sum += points;
  }
  if (rt.plan.program.metric === 'points') addMetric(rt, s, at, sum, 1, vs[i + 1]!);
}

/** Schedules a vesting of `count` contributions (the credits that follow)
 * in the member's state: order `order` (its number `seq`, 0 for a
 * referrer's reward) vesting at `at`. */
function schedule(s: MemberState, at: number, seq: number, order: string, count: number): void {
  s.vesting.push(at, seq, count);
  s.vestingNames.push(order);
  if (at < s.nextVestAt) s.nextVestAt = at;
  if (at < s.lastVestAt) s.vestingInOrder = false;
  s.lastVestAt = at;
}

/** Where an order's contributions go: written now, or (`pending`) as the
 * next contribution of the vesting just scheduled (4.9). Any step of 4.2
 * that produces a contribution for the ordering member goes through here. */
function credit(rt: Evaluation, s: MemberState, pending: boolean, at: number, points: number, rule: string, ref: string, line: number | null, out: LedgerEntry[]): void {
  if (!pending) earn(rt, s, at, points, rule, ref, line, out);
  else {
    s.vesting.push(points, line ?? 0);
    s.vestingNames.push(rule);
  }
}

/** The member's scheduled vestings, one object each (the server's view of them). */
export function vestingsOf(s: MemberState): Vesting[] {
  currentState(s);
  const vs = s.vesting;
  const names = s.vestingNames;
  const out: Vesting[] = [];
  for (let i = 0, j = 0; i < vs.length; ) {
    const n = vs[i + 2]!;
    const contributions = [];
    for (let c = 0; c < n; c++) contributions.push({ rule: names[j + 1 + c]!, points: vs[i + 3 + 2 * c]!, line: vs[i + 4 + 2 * c] === 0 ? null : vs[i + 4 + 2 * c]! });
    out.push({ order: names[j]!, seq: vs[i + 1]!, at: vs[i]!, contributions });
    i += 3 + 2 * n;
    j += 1 + n;
  }
  return out;
}

/** The member's points scheduled and not yet written (replay.md `pending`). */
export function pendingPoints(s: MemberState): number {
  currentState(s);
  const vs = s.vesting;
  let sum = 0;
  for (let i = 0; i < vs.length; i += 3 + 2 * vs[i + 2]!) for (let c = 0; c < vs[i + 2]!; c++) sum += vs[i + 3 + 2 * c]!;
  return sum;
}

/** Takes `points` off the pending contributions of the member's order
 * number `seq` (id `order`) other than referral rewards and challenge
 * bonuses, in the order of 4.2, each down to 0 before the next (4.9).
 * Returns false when the order has no vesting pending. */
function reducePending(s: MemberState, seq: number, order: string, points: number): boolean {
  const vs = s.vesting;
  const names = s.vestingNames;
  for (let i = 0, j = 0; i < vs.length; ) {
    const n = vs[i + 2]!;
    if (vs[i + 1] === seq && names[j] === order) {
      let left = points;
      for (let c = 0; c < n && left > 0; c++) {
        const rule = names[j + 1 + c]!;
        if (rule.startsWith('referral:') || rule.startsWith('challenge:')) continue;
        const take = Math.min(vs[i + 3 + 2 * c]!, left);
        vs[i + 3 + 2 * c] -= take;
        left -= take;
      }
      return true;
    }
    i += 3 + 2 * n;
    j += 1 + n;
  }
  return false;
}

/** Sets when bringing the member forward next changes anything (an expiry,
 * a birthday, a tier change), or NEVER. (Stored here rather than returned:
 * a returned double is boxed on the way out.) */
export function updateDue(rt: Evaluation, s: MemberState): void {
  const p = rt.plan.program;
  let due = Infinity;
  const exp = p.expire;
  if (exp?.mode === 'lots') due = nextLotDue(s);
  if (exp?.mode === 'inactivity' && s.inactiveAt !== null && s.balance > 0) due = s.inactiveAt;
  if (s.nextBirthday !== null && s.nextBirthday < due) due = s.nextBirthday;
  if (s.nextVestAt < due) due = s.nextVestAt;
  // The tier's due time is kept while it is still ahead (see MemberState.tierDue).
  let t = s.tierDue;
  if (!(t > s.at)) {
    t = tierDue(rt, s);
    s.tierDue = t === Infinity ? NEVER : t;
  }
  if (t < due) due = t;
  s.due = due === Infinity ? NEVER : due;
}

/** When the member is next due for anything (kept in the state by every change). */
export function nextDue(program: Program, s: MemberState): number | null {
  currentState(s);
  const rt = evaluation(program);
  // Another layout, or a state upgraded from before 1970 (state.ts): worked out now.
  if (s.layout !== rt.plan.layout || s.due === EARLIER) {
    prepare(rt, s);
    updateDue(rt, s);
  }
  return s.due >= NEVER ? null : s.due;
}

/** Brings one member to `at` (a `tick`, or the server's advanceTime). */
export function advance(program: Program, s: MemberState, at: number, opts?: { evaluation?: Evaluation }): LedgerEntry[] {
  currentState(s);
  const out: LedgerEntry[] = [];
  if (at < s.at) return out;
  const rt = evaluationFor(program, opts?.evaluation);
  bringTo(rt, s, at, out);
  updateDue(rt, s);
  return out;
}

/** The first time birthday `birthday` falls due strictly after `at`, or null without one. */
function birthdayAfter(rt: Evaluation, birthday: string | null, at: number): number | null {
  const b = birthday ? parseBirthday(birthday) : null;
  if (!b) return null;
  let y = rt.plan.zone.localYear(at);
  let due = rt.plan.zone.birthdayIn(y, b.m, b.d);
  if (due <= at) due = rt.plan.zone.birthdayIn(++y, b.m, b.d);
  return due;
}

/** A correction of a member's birthday (or its removal, with null) at
 * `at`: the member is first brought to `at` (what fell due by then, under
 * the old birthday, is written), then the next birthday bonus is the first
 * of the new birthday strictly after `at`, never one already past. */
export function changeBirthday(program: Program, s: MemberState, birthday: string | null, at: number): LedgerEntry[] {
  currentState(s);
  if (birthday !== null && !parseBirthday(birthday)) throw new Error(`not a date: ${JSON.stringify(birthday)}`);
  const out: LedgerEntry[] = [];
  const rt = evaluation(program);
  const t = Math.max(at, s.at);
  bringTo(rt, s, t, out);
  s.birthday = birthday;
  s.nextBirthday = birthdayAfter(rt, birthday, t);
  updateDue(rt, s);
  return out;
}

/** An erased member: the state keeps its figures (balance, lots, tier
 * history) under the pseudonym `id`, without the birthday. */
export function eraseState(program: Program, s: MemberState, id: string): void {
  currentState(s);
  const rt = evaluation(program);
  prepare(rt, s);
  s.id = id;
  s.birthday = null;
  s.nextBirthday = null;
  updateDue(rt, s);
}

/** A referee whose referrer was erased names the referrer by its pseudonym. */
export function renameReferrer(s: MemberState, referrer: string): void {
  s.referrer = referrer;
}

// ---------------------------------------------------------------------------
// Orders (4.2)

export interface Contribution {
  rule: string;
  points: number;
  line: number | null;
}

/** The lines of an evaluated order as kept for refunds. */
export function orderLines(rt: Evaluation, calc: OrderCalc, lines: readonly OrderLine[]): OrderLineRec[] {
  if (calc.lines !== null) return calc.lines;
  return lines.map((l, i) => [l.sku, l.qty, rt.linePaid[i]!, rt.lineElig[i]!, 0]);
}

/** Receives a new accepted order (instead of an OrderRec in Outcome.order):
 * the lines, and each line's paid amount and eligibility in the arrays. */
export type OrderSink = (id: string, member: string, at: number, seq: number, e: number, p: number, lines: readonly OrderLine[], paid: Float64Array, eligible: Uint8Array) => void;

/** The contributions of the last computeOrder, as objects. */
export function contributions(rt: Evaluation, calc: OrderCalc): Contribution[] {
  const out: Contribution[] = [];
  for (let i = 0; i < calc.count; i++) out.push({ rule: rt.out.rule[i]!, points: rt.out.points[i]!, line: rt.out.line[i]! });
  return out;
}

/**
 * Steps 1–7 of an order: every contribution, with limits applied. With
 * `commit` the limit uses are recorded in the state (the order is accepted);
 * without, nothing is written (a quote).
 */
export function computeOrder(rt: Evaluation, s: MemberState, at: number, lines: readonly OrderLine[], channel: string | null, commit: boolean): OrderCalc {
  const p = rt.plan.program;
  const clubs = activeClubs(rt.plan, s, at);
  const tier = p.tiers.length ? tierIndexOf(rt.plan, s) : -1;
  const anyDiscount = discountsApply(rt.plan, clubs, tier);
  const recs: OrderLineRec[] = new Array(lines.length);
  const masks = rt.plan.masks !== null && p.rules.length ? (rt.lineMasks.length >= lines.length ? rt.lineMasks : (rt.lineMasks = new Array(lines.length))) : null;
  let total = 0;
  let items = 0;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const amount = l.qty * l.price;
    // Step 2: the largest discount of the tier and the active clubs.
    const paid = anyDiscount ? amount - lineDiscount(rt.plan, clubs, tier, l.category, amount) : amount;
    const eligible = !p.excludeCategories.has(l.category) && !p.excludeSkus.has(l.sku);
    if (eligible) {
      total += paid;
      items += l.qty;
    }
    recs[i] = [l.sku, l.qty, paid, eligible ? 1 : 0, 0];
    if (masks !== null) masks[i] = eligible ? lineMask(rt.plan, l.category, l.sku) : 0;
  }
  const sc = rt.out;
  let n = 0;
  const rate = p.base?.rate;
  const base = rate ? mulDivFloor(total, rate.n, rate.d) : 0;
  if (base > 0) n = contribute(sc, n, 'base', base, p.base!.line);

  // Step 5: an order with no eligible line gets no rule contributions.
  if (items > 0 && p.rules.length) {
    const f = rt.facts;
    f.total = total;
    f.items = items;
    f.channel = channel;
    f.tier = tierIndexOf(rt.plan, s);
    f.clubs = clubs;
    f.firstOrder = s.orders === 0;
    if (rt.plan.needsLocal) {
      const local = rt.plan.zone.toLocal(at);
      f.localDay = Math.floor(local / DAY);
      f.msOfDay = local - f.localDay * DAY;
      f.weekday = (((f.localDay + 3) % 7) + 7) % 7;
    }
    const rules = p.rules;
    for (let ri = 0; ri < rules.length; ri++) {
      const r = rules[ri]!;
      if (r.condition !== null && !r.condition(f)) continue;
      let mPaid = total;
      let mQty = items;
      if (r.matches !== null) {
        mPaid = 0;
        mQty = 0;
        let any = false;
        for (let i = 0; i < recs.length; i++) {
          const rec = recs[i]!;
          if (masks !== null ? ((masks[i]! >>> ri) & 1) === 1 : rec[3] === 1 && r.matches(lines[i]!.category, rec[0])) {
            any = true;
            mPaid += rec[2];
            mQty += rec[1];
          }
        }
        if (!any) continue;
      }
      let c = effectPoints(r, mPaid, mQty, rate);
      if (c <= 0) continue;
      const lim = r.limit;
      if (lim !== null) {
        if (lim.period === 'order') {
          // Each order is its own period: a cap on points, or on applications.
          if (lim.unit === 'points') c = Math.min(c, lim.amount);
          else if (lim.amount < 1) continue;
          if (c <= 0) continue;
        } else {
          const slot = 2 * rt.plan.ruleSlot[ri]!;
          const key = periodKey(lim.period, f.localDay);
          const used = s.limitUses[slot] === key ? s.limitUses[slot + 1]! : 0;
          if (lim.unit === 'points') {
            c = Math.min(c, lim.amount - used);
            if (c <= 0) continue;
          } else if (used >= lim.amount) continue;
          if (commit) {
            s.limitUses[slot] = key;
            s.limitUses[slot + 1] = used + (lim.unit === 'points' ? c : 1);
          }
        }
      }
      n = contribute(sc, n, r.name, c, r.effectLine);
    }
  }

  // Step 6: the tier held at the start of the order, on the integer base.
  if (base > 0) {
    const t = p.tiers.length ? p.tiers[tierIndexOf(rt.plan, s)] : undefined;
    if (t?.multiplier) {
      const c = mulDivFloor(t.multiplier.n - t.multiplier.d, base, t.multiplier.d);
      if (c > 0) n = contribute(sc, n, t.tierRule, c, t.multiplierLine);
    }
    // Step 7: clubs, in declaration order.
    if (clubs !== rt.plan.noClubs)
      for (const club of p.clubs) {
        if (!clubs[club.index] || !club.multiplier) continue;
        const c = mulDivFloor(club.multiplier.n - club.multiplier.d, base, club.multiplier.d);
        if (c > 0) n = contribute(sc, n, club.rule, c, club.multiplierLine);
      }
  }
  return { lines: recs, total, items, base, count: n };
}

export function effectPoints(r: Rule, paid: number, qty: number, rate: { n: number; d: number } | undefined): number {
  const e = r.effect;
  switch (e.kind) {
    case 'multiplier':
      // (k − 1) × the exact base of the matching lines, floored once.
      return rate ? mulMulDivFloor(e.factor.n - e.factor.d, rate.n, paid, e.factor.d * rate.d) : 0;
    case 'extra':
      return mulDivFloor(paid, e.rate.n, e.rate.d);
    case 'bonus':
      return e.perItem ? e.points * qty : e.points;
  }
}

/**
 * Step 8a of an order (4.11): each challenge the order counts for adds its
 * progress in the period of `at`, and a challenge whose goal the order
 * reaches first in that period gives its bonus. The bonuses are appended to
 * the order's contributions in `rt.out` from `calc.count` on, in source
 * order; returns the new end of the list. With `commit` the progress is
 * recorded in the state; without, nothing is written (a quote). Reads each
 * line's paid amount and eligibility from `calc.lines`, or from
 * rt.linePaid / rt.lineElig after the generated evaluation.
 */
export function challengeContributions(rt: Evaluation, s: MemberState, at: number, lines: readonly OrderLine[], calc: OrderCalc, commit: boolean): number {
  const cs = rt.plan.program.challenges;
  let n = calc.count;
  if (cs.length === 0 || calc.items === 0) return n;
  let progress = s.challenges;
  if (progress === undefined || progress.length !== 3 * cs.length) {
    progress = new Array<number>(3 * cs.length).fill(0);
    if (commit) s.challenges = progress;
  }
  const day = rt.plan.zone.localDay(at);
  for (let ci = 0; ci < cs.length; ci++) {
    const c = cs[ci]!;
    // Without a filter every eligible line counts: the order counts (it has
    // one, calc.items > 0) and its spend is the eligible total.
    let counts = c.matches === null;
    let spend = counts ? calc.total : 0;
    if (c.matches !== null)
      for (let i = 0; i < lines.length; i++) {
        const eligible = calc.lines !== null ? calc.lines[i]![3] === 1 : rt.lineElig[i] === 1;
        if (!eligible) continue;
        const l = lines[i]!;
        if (!c.matches(l.category, l.sku)) continue;
        counts = true;
        spend += calc.lines !== null ? calc.lines[i]![2] : rt.linePaid[i]!;
      }
    if (!counts) continue;
    const k = 3 * ci;
    const key = periodKey(c.goal.period, day);
    const same = progress[k] === key;
    const value = (same ? progress[k + 1]! : 0) + (c.goal.metric === 'orders' ? 1 : spend);
    const awarded = same && progress[k + 2] === 1;
    const reached = !awarded && value >= c.goal.amount;
    if (commit) {
      progress[k] = key;
      progress[k + 1] = value;
      progress[k + 2] = awarded || reached ? 1 : 0;
    }
    if (reached) n = contribute(rt.out, n, c.rule, c.bonus, c.bonusLine);
  }
  return n;
}

/** One challenge as a member stands at `t` (dsl.md 4.11): progress in the
 * calendar period of `t` (ever, for `per member`). */
export interface ChallengeProgress {
  name: string;
  metric: 'orders' | 'spend';
  /** Counting orders, or spend in minor units, so far in the period. */
  value: number;
  goal: number;
  period: string;
  /** Whether the bonus was awarded in the period. */
  completed: boolean;
  /** When the period ends and progress starts again (local midnight of the
   * next day, Monday, 1st of the month or 1 January); null for `per member`. */
  resetsAt: number | null;
}

/** Every challenge of the program for member `s` at `t`, from its stored progress. */
export function challengeProgress(program: Program, s: MemberState, t: number): ChallengeProgress[] {
  currentState(s);
  const rt = evaluation(program);
  prepare(rt, s);
  const day = rt.plan.zone.localDay(t);
  return program.challenges.map((c, ci) => {
    const progress = s.challenges ?? [];
    const same = progress.length === 3 * program.challenges.length && progress[3 * ci] === periodKey(c.goal.period, day);
    return {
      name: c.name,
      metric: c.goal.metric,
      value: same ? progress[3 * ci + 1]! : 0,
      goal: c.goal.amount,
      period: c.goal.period,
      completed: same && progress[3 * ci + 2] === 1,
      resetsAt: periodEnd(rt, c.goal.period, day),
    };
  });
}

/** The first instant of the calendar period after the one holding local day `day`. */
export function periodEnd(rt: Evaluation, period: Period, day: number): number | null {
  let next: number;
  switch (period) {
    case 'day':
      next = day + 1;
      break;
    case 'week':
      next = day + 7 - ((((day + 3) % 7) + 7) % 7);
      break;
    case 'month': {
      const c = civilFromDays(day);
      next = daysFromCivil(c.m === 12 ? c.y + 1 : c.y, c.m === 12 ? 1 : c.m + 1, 1);
      break;
    }
    case 'year':
      next = daysFromCivil(civilFromDays(day).y + 1, 1, 1);
      break;
    default:
      return null;
  }
  return rt.plan.zone.startOfDay(next);
}

/** Whether the member's order earns the referral rewards (step 8). */
export function referralApplies(rt: Evaluation, s: MemberState, at: number, total: number): boolean {
  const ref = rt.plan.program.referral;
  if (!ref || s.referrer === null || s.orders !== 0 || total < ref.minOrder) return false;
  return ref.within === null || at <= rt.plan.zone.add(s.signupAt, ref.within);
}

function evaluateOrder(rt: Evaluation, s: MemberState, at: number, lines: readonly OrderLine[], channel: string | null): OrderCalc {
  if (rt.reference) return computeOrder(rt, s, at, lines, channel, true);
  if (lines.length > rt.linePaid.length) {
    rt.linePaid = new Float64Array(lines.length * 2);
    rt.lineElig = new Uint8Array(lines.length * 2);
  }
  return rt.plan.orderFn(rt, s, at, lines, channel);
}

function applyOrder(rt: Evaluation, s: MemberState, ev: Extract<EngineEvent, { type: 'order' }>, world: World, outcome: Outcome): Refusal | null {
  if (world.order(ev.id) !== undefined) return refusal('DUPLICATE_ORDER', `duplicate order id "${ev.id}"`);
  const out = outcome.entries;
  const p = rt.plan.program;
  const calc = evaluateOrder(rt, s, ev.at, ev.lines, ev.channel ?? null);
  // With `pending` (4.9) every contribution is computed now and written at
  // the vesting instant: the member's own in one vesting of the order, the
  // referrer's reward in one of the referrer's.
  const vestAt = p.pending === null ? 0 : rt.plan.zone.add(ev.at, p.pending);
  const ref = p.referral;
  const referral = ref !== null && referralApplies(rt, s, ev.at, calc.total);
  // Step 8a: challenge bonuses, computed now (they read nothing the referral
  // writes) and credited after the referral (not in E: 4.8).
  const end = challengeContributions(rt, s, ev.at, ev.lines, calc, true);
  // A vesting's contributions are known in number up front: it is
  // scheduled first, and each credit adds the next (the referrer's, below,
  // go to another member's state).
  const pending = p.pending !== null;
  const size = end + (referral && ref.referee > 0 ? 1 : 0);
  if (pending && size > 0) schedule(s, vestAt, s.orders + 1, ev.id, size);
  let e = 0;
  const sc = rt.out;
  for (let i = 0; i < calc.count; i++) {
    credit(rt, s, pending, ev.at, sc.points[i]!, sc.rule[i]!, ev.id, sc.line[i]!, out);
    e += sc.points[i]!;
  }
  let memberPoints = e;
  if (referral) {
    if (ref.referee > 0) {
      credit(rt, s, pending, ev.at, ref.referee, 'referral:referee', ev.id, ref.refereeLine, out);
      memberPoints += ref.referee;
    }
    const found = ref.referrer > 0 ? world.get(s.referrer!) : undefined;
    const r = found === undefined ? undefined : currentState(found);
    if (r) {
      const year = rt.plan.zone.localYear(ev.at);
      const count = r.refYear === year ? r.refCount : 0;
      if (ref.limitPerYear === null || count < ref.limitPerYear) {
        bringTo(rt, r, ev.at, out);
        r.refYear = year;
        r.refCount = count + 1;
        if (pending) {
          schedule(r, vestAt, 0, ev.id, 1);
          credit(rt, r, true, ev.at, ref.referrer, 'referral:referrer', ev.id, ref.referrerLine, out);
        } else {
          earn(rt, r, ev.at, ref.referrer, 'referral:referrer', ev.id, ref.referrerLine, out);
          if (p.metric === 'points') addMetric(rt, r, ev.at, ref.referrer, 1, 0);
        }
        evaluateTier(rt, r, ev.at);
        outcome.changed.push(r);
      }
    }
  }
  // The challenge bonuses are pending with the order's other points (4.9).
  for (let i = calc.count; i < end; i++) {
    credit(rt, s, pending, ev.at, sc.points[i]!, sc.rule[i]!, ev.id, sc.line[i]!, out);
    memberPoints += sc.points[i]!;
  }
  if (rt.orderSink !== null && calc.lines === null) rt.orderSink(ev.id, s.id, ev.at, s.orders + 1, e, calc.total, ev.lines, rt.linePaid, rt.lineElig);
  else outcome.order = { id: ev.id, member: s.id, at: ev.at, seq: s.orders + 1, earned: e, eligiblePaid: calc.total, reversed: 0, lines: orderLines(rt, calc, ev.lines) };
  s.orders += 1;
  // Step 10: tier progress (pending points count when they vest).
  if (p.metric === 'spend') addMetric(rt, s, ev.at, calc.total, 1, s.orders);
  else if (p.metric === 'points' && !pending) addMetric(rt, s, ev.at, memberPoints, 1, s.orders);
  else if (p.metric === 'orders') addMetric(rt, s, ev.at, 1, 1, s.orders);
  evaluateTier(rt, s, ev.at);
  return null;
}

// ---------------------------------------------------------------------------
// Refunds (4.8)

function applyRefund(rt: Evaluation, s: MemberState, ev: Extract<EngineEvent, { type: 'refund' }>, world: World, outcome: Outcome): Refusal | null {
  const stored = world.order(ev.order);
  const o = stored === undefined ? undefined : currentOrder(stored);
  if (!o || o.member !== s.id) return refusal('UNKNOWN_ORDER', `unknown order "${ev.order}" for member "${s.id}"`);
  // Check every line first: a refund is taken whole or not at all.
  const wanted = new Map<string, number>();
  for (const l of ev.lines) wanted.set(l.sku, (wanted.get(l.sku) ?? 0) + l.qty);
  for (const [sku, qty] of wanted) {
    let left = 0;
    let found = false;
    for (const rec of o.lines)
      if (rec[0] === sku) {
        found = true;
        left += rec[1] - rec[4];
      }
    if (!found) return refusal('SKU_NOT_ON_ORDER', `sku "${sku}" is not on order "${ev.order}"`);
    if (qty > left) return refusal('REFUND_EXCEEDS_ORDER', `refund of ${qty} x ${sku} exceeds the ${left} not yet refunded`, { refundable: left });
  }
  const before = refundedEligible(o.lines);
  // Refund lines take a sku's quantity from the order's lines in order.
  for (const [sku, qty] of wanted) {
    let left = qty;
    for (const rec of o.lines) {
      if (left === 0) break;
      if (rec[0] !== sku) continue;
      const take = Math.min(left, rec[1] - rec[4]);
      rec[4] += take;
      left -= take;
    }
  }
  const after = refundedEligible(o.lines);
  outcome.order = o;
  // −(floor(E × R / P) − already reversed), with R exact.
  if (o.eligiblePaid > 0) {
    const target = Number((BigInt(o.earned) * BigInt(after[0])) / (BigInt(o.eligiblePaid) * BigInt(after[1])));
    const delta = target - o.reversed;
    // Not vested yet (the member was brought to the refund's time): taken
    // off the pending contributions instead of a `reverse` entry (4.9).
    if (delta > 0 && reducePending(s, o.seq, o.id, delta)) {
      o.reversed += delta;
    } else if (delta > 0) {
      entry(rt, outcome.entries, s, ev.at, 'reverse', -delta, null, ev.order, null);
      consume(rt, s, delta);
      o.reversed += delta;
      if (rt.plan.program.metric === 'points') adjustOrderMetric(rt, s, o.seq, [-delta, 1]);
    }
  }
  if (rt.plan.program.metric === 'spend') adjustOrderMetric(rt, s, o.seq, addRat(before, [-after[0], after[1]]));
  evaluateTier(rt, s, ev.at);
  return null;
}

/** Σ paid × refunded / qty over eligible lines, exactly. */
function refundedEligible(lines: OrderLineRec[]): Rat {
  let r: Rat = [0, 1];
  for (const [, qty, paid, eligible, refunded] of lines) {
    if (!eligible || refunded === 0) continue;
    r = paid % qty === 0 ? addRat(r, [(paid / qty) * refunded, 1]) : addRat(r, [paid * refunded, qty]);
  }
  return r;
}

// ---------------------------------------------------------------------------
// Redemption (4.6), clubs (4.4), event bonuses (4.3)

function applyRedeem(rt: Evaluation, s: MemberState, ev: Extract<EngineEvent, { type: 'redeem' }>, out: LedgerEntry[]): Refusal | null {
  const r = rt.plan.program.redeem;
  if (!r) return refusal('NO_REDEMPTION', 'the program has no redeem section');
  if (ev.points < r.min) return refusal('BELOW_MINIMUM', `redeem of ${ev.points} is below the minimum of ${r.min}`, { requested: ev.points, required: r.min });
  if (ev.points > s.balance) return refusal('INSUFFICIENT_POINTS', `redeem of ${ev.points} exceeds the balance of ${s.balance}`, { requested: ev.points, balance: s.balance });
  if (ev.orderTotal !== null && ev.orderTotal !== undefined && r.maxPercent) {
    const value = mulDivFloor(ev.points, r.value, r.points);
    const m = r.maxPercent;
    if (BigInt(value) * 100n * BigInt(m.d) > BigInt(m.n) * BigInt(ev.orderTotal)) {
      const max = Number((BigInt(m.n) * BigInt(ev.orderTotal)) / (100n * BigInt(m.d)));
      const p = rt.plan.program;
      return refusal(
        'ABOVE_MAX_SHARE',
        `redeem worth ${formatCurrency(p, value)} exceeds ${m.n / m.d}% of the order (at most ${formatCurrency(p, max)})`,
        { requested: ev.points, value, max },
      );
    }
  }
  entry(rt, out, s, ev.at, 'redeem', -ev.points, null, null, r.line);
  consume(rt, s, ev.points);
  const exp = rt.plan.program.expire;
  if (exp?.mode === 'inactivity') s.inactiveAt = addDuration(rt, rt.lotMemo, ev.at, exp.after);
  evaluateTier(rt, s, ev.at);
  return null;
}

function applyJoin(rt: Evaluation, s: MemberState, ev: Extract<EngineEvent, { type: 'join_club' }>, out: LedgerEntry[]): Refusal | null {
  const i = rt.plan.program.clubIndex.get(ev.club);
  if (i === undefined) return refusal('UNKNOWN_CLUB', `unknown club "${ev.club}"`);
  const club = rt.plan.program.clubs[i]!;
  if (isActive(s, i, ev.at)) return refusal('ALREADY_IN_CLUB', `member "${s.id}" is already in club "${club.name}"`);
  const first = s.clubs[2 * i] === null;
  s.clubs[2 * i] = ev.at;
  s.clubs[2 * i + 1] = club.fee ? rt.plan.zone.add(ev.at, { amount: 1, unit: club.fee.per }) : null;
  if (first && club.joinBonus > 0) {
    earn(rt, s, ev.at, club.joinBonus, `club:${club.name}:join`, null, club.joinLine, out);
    if (rt.plan.program.metric === 'points') addMetric(rt, s, ev.at, club.joinBonus, 1, 0);
    evaluateTier(rt, s, ev.at);
  }
  return null;
}

function applyCancel(rt: Evaluation, s: MemberState, ev: Extract<EngineEvent, { type: 'cancel_club' }>): Refusal | null {
  const i = rt.plan.program.clubIndex.get(ev.club);
  if (i === undefined) return refusal('UNKNOWN_CLUB', `unknown club "${ev.club}"`);
  if (!isActive(s, i, ev.at)) return refusal('NOT_IN_CLUB', `member "${s.id}" is not in club "${ev.club}"`);
  s.clubs[2 * i + 1] = ev.at;
  return null;
}

function applyNamedEvent(rt: Evaluation, s: MemberState, ev: Extract<EngineEvent, { type: 'event' }>, out: LedgerEntry[]): Refusal | null {
  const b = rt.plan.program.events.get(ev.name);
  if (!b || b.points <= 0) return null; // no section for it: nothing written, not an error
  let points = b.points;
  const lim = b.limit;
  if (lim) {
    const slot = 2 * rt.plan.eventSlot.get(b.name)!;
    const key = periodKey(lim.period, rt.plan.zone.localDay(ev.at));
    const used = s.limitUses[slot] === key ? s.limitUses[slot + 1]! : 0;
    if (lim.unit === 'points') points = Math.min(points, lim.amount - used);
    else if (used >= lim.amount) points = 0;
    if (points <= 0) return null;
    s.limitUses[slot] = key;
    s.limitUses[slot + 1] = used + (lim.unit === 'points' ? points : 1);
  }
  earn(rt, s, ev.at, points, `event:${b.name}`, null, b.line, out);
  if (rt.plan.program.metric === 'points') addMetric(rt, s, ev.at, points, 1, 0);
  evaluateTier(rt, s, ev.at);
  return null;
}

/** Why member M cannot redeem reward `index` at `t` now (4.10, in the
 * order the spec lists the refusals), or null when it can. The member is
 * taken as it is: bring it to `t` first. */
export function rewardRefusal(rt: Evaluation, s: MemberState, index: number, t: number): Refusal | null {
  const w = rt.plan.program.rewards[index]!;
  if (w.conditions.length) {
    const clubs = rt.plan.program.clubs.map((c) => isActive(s, c.index, t));
    const facts = { tier: tierIndexOf(rt.plan, s), clubs };
    const failed = w.conditions.find((c) => !c.test(facts));
    if (failed)
      return refusal('REWARD_CONDITION_FALSE', `member "${s.id}" does not meet the condition of reward "${w.name}"`, { condition: failed.text });
  }
  if (w.limit) {
    const used = rewardUses(rt, s, index, t);
    if (used >= w.limit.amount)
      return refusal('REWARD_LIMIT_REACHED', `reward "${w.name}": limit of ${w.limit.amount} per ${w.limit.period} used`, { used, limit: w.limit.amount });
  }
  if (w.cost > s.balance) return refusal('INSUFFICIENT_POINTS', `reward "${w.name}" costs ${w.cost}, the balance is ${s.balance}`, { requested: w.cost, balance: s.balance });
  return null;
}

/** Accepted redemptions of reward `index` in the calendar period of `t` (ever, for `per member`). */
export function rewardUses(rt: Evaluation, s: MemberState, index: number, t: number): number {
  const w = rt.plan.program.rewards[index]!;
  if (!w.limit) return 0;
  const slot = 2 * rt.plan.rewardSlot[index]!;
  const key = periodKey(w.limit.period, rt.plan.zone.localDay(t));
  return s.limitUses[slot] === key ? s.limitUses[slot + 1]! : 0;
}

/** `redeem_reward` (4.10): refused for an unknown reward, a false `when`, a
 * used-up limit or a cost above the balance; otherwise a `redeem` entry of
 * −cost with rule `reward:NAME`, oldest lots first, activity for inactivity
 * expiry. Needs no redeem section; its min and max do not apply. */
function applyRedeemReward(rt: Evaluation, s: MemberState, ev: Extract<EngineEvent, { type: 'redeem_reward' }>, out: LedgerEntry[]): Refusal | null {
  const i = rt.plan.program.rewardIndex.get(ev.reward);
  if (i === undefined) return refusal('UNKNOWN_REWARD', `unknown reward "${ev.reward}"`);
  const refused = rewardRefusal(rt, s, i, ev.at);
  if (refused) return refused;
  const w = rt.plan.program.rewards[i]!;
  if (w.limit) {
    const slot = 2 * rt.plan.rewardSlot[i]!;
    const used = rewardUses(rt, s, i, ev.at);
    s.limitUses[slot] = periodKey(w.limit.period, rt.plan.zone.localDay(ev.at));
    s.limitUses[slot + 1] = used + 1;
  }
  entry(rt, out, s, ev.at, 'redeem', -w.cost, w.rule, null, w.line);
  consume(rt, s, w.cost);
  const exp = rt.plan.program.expire;
  if (exp?.mode === 'inactivity') s.inactiveAt = addDuration(rt, rt.lotMemo, ev.at, exp.after);
  evaluateTier(rt, s, ev.at);
  return null;
}

/** A staff correction (4.12): never refused for a known member. A positive
 * one covers a deficit and forms a lot with the rest, a negative one takes
 * the oldest lots first and may leave a deficit. Not activity, not in the
 * `points` tier metric, no room back under any limit. */
function applyAdjust(rt: Evaluation, s: MemberState, ev: Extract<EngineEvent, { type: 'adjust' }>, out: LedgerEntry[]): Refusal | null {
  entry(rt, out, s, ev.at, 'adjust', ev.points, null, null, null);
  if (ev.points > 0) addToLots(rt, s, ev.at, ev.points);
  else consume(rt, s, -ev.points);
  evaluateTier(rt, s, ev.at);
  return null;
}

// ---------------------------------------------------------------------------
// The entry point

function finish(rt: Evaluation, outcome: Outcome, refused: Refusal | null): Outcome {
  outcome.refusal = refused;
  outcome.error = refused === null ? null : refused.message;
  if (refused !== null) outcome.order = null;
  for (const s of outcome.changed) updateDue(rt, s);
  return outcome;
}

export interface ApplyOptions {
  /** An Outcome to fill (and return) instead of a new one — replay reuses
   * one; its previous contents are discarded. */
  into?: Outcome;
  /** The evaluation to use (its sinks and order evaluation); by default the
   * program's shared one, with entries and the order in the Outcome. */
  evaluation?: Evaluation;
}

/** Applies one event. */
export function applyEvent(program: Program, ev: EngineEvent, world: World, opts?: ApplyOptions): Outcome {
  const rt = evaluationFor(program, opts?.evaluation);
  const into = opts?.into;
  let outcome: Outcome;
  if (into) {
    outcome = into;
    outcome.error = null;
    outcome.refusal = null;
    // pop() rather than `length = 0` (a runtime call, on every event).
    while (outcome.entries.length) outcome.entries.pop();
    while (outcome.changed.length) outcome.changed.pop();
    outcome.order = null;
  } else outcome = { error: null, refusal: null, entries: [], changed: [], order: null };
  if (ev.type === 'tick') return finish(rt, outcome, refusal('NOT_A_MEMBER_EVENT', 'a tick brings every member forward: call advance for each member'));

  if (ev.type === 'signup') {
    const found = world.get(ev.member);
    if (found) {
      const existing = currentState(found);
      if (ev.at >= existing.at) {
        bringTo(rt, existing, ev.at, outcome.entries);
        outcome.changed.push(existing);
      }
      return finish(rt, outcome, refusal('ALREADY_SIGNED_UP', `member "${ev.member}" already signed up`));
    }
    const referrer = ev.referrer ?? null;
    if (referrer !== null) {
      if (referrer === ev.member) return finish(rt, outcome, refusal('SELF_REFERRAL', `member "${ev.member}" cannot refer itself`));
      if (!world.get(referrer)) return finish(rt, outcome, refusal('UNKNOWN_REFERRER', `unknown referrer "${referrer}"`));
    }
    const s = newMember(rt, ev.member, ev.at, ev.birthday ?? null, referrer);
    outcome.changed.push(s);
    if (program.signup && program.signup.points > 0) {
      earn(rt, s, ev.at, program.signup.points, 'signup', null, program.signup.line, outcome.entries);
      if (program.metric === 'points') addMetric(rt, s, ev.at, program.signup.points, 1, 0);
    }
    evaluateTier(rt, s, ev.at);
    return finish(rt, outcome, null);
  }

  const found = world.get(ev.member);
  if (!found) return finish(rt, outcome, refusal('UNKNOWN_MEMBER', `unknown member "${ev.member}"`));
  const s = currentState(found);
  if (s.v !== 7) return finish(rt, outcome, refusal('UNREADABLE_STATE', `member "${ev.member}" has a state of version ${String(s.v)}, which this engine does not read`));
  if (ev.at < s.at) return finish(rt, outcome, refusal('OUT_OF_ORDER', `event at ${formatInstant(ev.at)} is earlier than member "${s.id}"'s last event (${formatInstant(s.at)})`, { last: s.at }));
  bringTo(rt, s, ev.at, outcome.entries);
  outcome.changed.push(s);
  return finish(rt, outcome, applyMemberEvent(rt, s, ev, world, outcome));
}

function applyMemberEvent(rt: Evaluation, s: MemberState, ev: Exclude<MemberEvent, { type: 'signup' }>, world: World, outcome: Outcome): Refusal | null {
  const out = outcome.entries;
  switch (ev.type) {
    case 'order':
      return applyOrder(rt, s, ev, world, outcome);
    case 'refund':
      return applyRefund(rt, s, ev, world, outcome);
    case 'redeem':
      return applyRedeem(rt, s, ev, out);
    case 'join_club':
      return applyJoin(rt, s, ev, out);
    case 'cancel_club':
      return applyCancel(rt, s, ev);
    case 'event':
      return applyNamedEvent(rt, s, ev, out);
    case 'adjust':
      return applyAdjust(rt, s, ev, out);
    case 'redeem_reward':
      return applyRedeemReward(rt, s, ev, out);
  }
}

/** Clubs whose membership is active at `t`, sorted by name. */
export function clubsAt(program: Program, s: MemberState, t: number): string[] {
  currentState(s);
  const rt = evaluation(program);
  prepare(rt, s);
  return program.clubs
    .filter((c) => isActive(s, c.index, t))
    .map((c) => c.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** One catalog reward as a member sees it at `t` (dsl.md 4.10). */
export interface RewardAvailability {
  name: string;
  cost: number;
  /** `value`, minor units, or null. */
  value: number | null;
  /** Redemptions in the limit's current period, and the limit (null: none). */
  used: number;
  limit: { amount: number; period: string } | null;
  available: boolean;
  /** Why not, when not available. */
  refusal: Refusal | null;
}

/** Every reward of the catalog for member `s` at `t`: whether a
 * `redeem_reward` would be accepted now, and why not. Reads the state as it
 * is (bring a copy to `t` with `advance` first for expiries due by then). */
export function rewardAvailability(program: Program, s: MemberState, t: number): RewardAvailability[] {
  currentState(s);
  const rt = evaluation(program);
  prepare(rt, s);
  return program.rewards.map((w) => {
    const refused = rewardRefusal(rt, s, w.index, t);
    return {
      name: w.name,
      cost: w.cost,
      value: w.value,
      used: rewardUses(rt, s, w.index, t),
      limit: w.limit ? { amount: w.limit.amount, period: w.limit.period } : null,
      available: refused === null,
      refusal: refused,
    };
  });
}

/** A club membership of the member (latest), by club index. */
export function membership(s: MemberState, index: number): { start: number; end: number | null } | null {
  currentState(s);
  const start = s.clubs[2 * index];
  return start === null || start === undefined ? null : { start, end: s.clubs[2 * index + 1] ?? null };
}
