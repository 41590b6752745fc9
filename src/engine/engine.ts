// Evaluation: the program, member states and an event come in; new states
// and ledger entries come out. Pure and deterministic: no clock, no I/O.
// Section numbers refer to ../shared/spec/dsl.md.
import type { Club, Duration, OrderFacts, Period, Program, Rule, Tier } from '../../dsl/program.ts';
import { civilFromDays } from '../../dsl/values.ts';
import { addRat, mulDivFloor, mulMulDivFloor, ratGte, type Rat } from './arith.ts';
import { DAY, formatInstant, parseBirthday, zoneFor, type Zone } from './time.ts';
import type { EngineEvent, LedgerEntry, MemberEvent, MemberState, OrderLine, OrderLineRec, Outcome, World } from './types.ts';

// ---------------------------------------------------------------------------
// Per-program runtime: things derived once from the compiled program.

interface Memo {
  input: number;
  output: number;
}

export interface Runtime {
  program: Program;
  zone: Zone;
  tierIndex: Map<string, number>;
  metricKey: string;
  /** Whether order evaluation needs the local date and time. */
  needsLocal: boolean;
  /** category → [club index, percent numerator, percent denominator]. */
  discounts: Map<string, [number, number, number][]>;
  memos: Map<Duration, Memo>;
}

const runtimes = new WeakMap<Program, Runtime>();

export function runtime(program: Program): Runtime {
  let rt = runtimes.get(program);
  if (rt) return rt;
  const discounts = new Map<string, [number, number, number][]>();
  for (const c of program.clubs)
    for (const d of c.discounts)
      for (const cat of d.categories) {
        let xs = discounts.get(cat);
        if (!xs) discounts.set(cat, (xs = []));
        xs.push([c.index, d.percent.n, d.percent.d]);
      }
  const w = program.window;
  rt = {
    program,
    zone: zoneFor(program.timezone),
    tierIndex: new Map(program.tiers.map((t) => [t.name, t.index])),
    metricKey: program.metric ? `${program.metric}/${w.kind === 'rolling' ? `${w.duration.amount} ${w.duration.unit}` : w.kind}` : '',
    needsLocal: program.rules.some((r) => r.usesLocalTime || (r.limit !== null && r.limit.period !== 'order' && r.limit.period !== 'member')),
    discounts,
    memos: new Map(),
  };
  runtimes.set(program, rt);
  return rt;
}

/** `ms + d` on the program's wall clock, memoized for the common case of
 * several entries at the same instant. */
function addDuration(rt: Runtime, ms: number, d: Duration): number {
  let m = rt.memos.get(d);
  if (!m) rt.memos.set(d, (m = { input: NaN, output: NaN }));
  if (m.input !== ms) {
    m.input = ms;
    m.output = rt.zone.add(ms, d);
  }
  return m.output;
}

// ---------------------------------------------------------------------------
// Member state

export function newMember(rt: Runtime, id: string, at: number, birthday: string | null, referrer: string | null): MemberState {
  const s: MemberState = {
    v: 1,
    id,
    signupAt: at,
    birthday,
    referrer,
    at,
    balance: 0,
    orders: 0,
    tier: rt.program.tiers[0]?.name ?? null,
    graceUntil: null,
    metricKey: rt.metricKey,
    metric: [],
    life: [0, 1],
    limits: {},
    clubs: {},
    refYear: 0,
    refCount: 0,
    nextBirthday: null,
    lots: [],
    deficit: 0,
    inactiveAt: null,
    orderLog: {},
  };
  const b = birthday ? parseBirthday(birthday) : null;
  if (b) {
    // Only birthdays after signup: the first one due strictly after it.
    let y = rt.zone.localYear(at);
    let due = rt.zone.birthdayIn(y, b.m, b.d);
    if (due <= at) due = rt.zone.birthdayIn(++y, b.m, b.d);
    s.nextBirthday = due;
  }
  return s;
}

/** A state written under another program version: the tier metric history
 * is re-dated for a new window, or restarted for a new metric. */
function prepare(rt: Runtime, s: MemberState): void {
  if (s.metricKey === rt.metricKey) return;
  const p = rt.program;
  const sameMetric = s.metricKey.split('/')[0] === (p.metric ?? '');
  const entries = sameMetric ? s.metric : [];
  s.metric = [];
  s.life = [0, 1];
  s.metricKey = rt.metricKey;
  for (const e of entries) addMetric(rt, s, e[0], e[2], e[3], e[4]);
  if (s.tier !== null && !rt.tierIndex.has(s.tier)) s.tier = p.tiers[0]?.name ?? null;
  if (s.tier === null && p.tiers.length) s.tier = p.tiers[0]!.name;
}

function entry(out: LedgerEntry[], s: MemberState, at: number, kind: LedgerEntry['kind'], points: number, rule: string | null, ref: string | null, line: number | null): void {
  out.push({ member: s.id, at, kind, points, rule, ref, line });
}

/** An earn entry: the balance, the lots (4.7) and the inactivity clock. */
function earn(rt: Runtime, s: MemberState, at: number, points: number, rule: string, ref: string | null, line: number | null, out: LedgerEntry[]): void {
  entry(out, s, at, 'earn', points, rule, ref, line);
  s.balance += points;
  const exp = rt.program.expire;
  if (!exp) return;
  if (exp.mode === 'inactivity') {
    s.inactiveAt = addDuration(rt, at, exp.after);
    return;
  }
  // While the balance is negative, new points first cover the deficit.
  let rest = points;
  if (s.deficit > 0) {
    const cover = Math.min(s.deficit, rest);
    s.deficit -= cover;
    rest -= cover;
  }
  if (rest <= 0) return;
  const due = addDuration(rt, at, exp.after);
  const last = s.lots[s.lots.length - 1];
  if (last && last[0] === due) last[1] += rest;
  else s.lots.push([due, rest]);
}

/** Points leaving the balance (redeem, reverse): the oldest lots first. */
function consume(rt: Runtime, s: MemberState, points: number): void {
  s.balance -= points;
  if (rt.program.expire?.mode !== 'lots') return;
  let left = points;
  while (left > 0 && s.lots.length) {
    const lot = s.lots[0]!;
    const take = Math.min(lot[1], left);
    lot[1] -= take;
    left -= take;
    if (lot[1] === 0) s.lots.shift();
  }
  s.deficit += left;
}

// ---------------------------------------------------------------------------
// Tier metric and evaluation (4.5)

function addMetric(rt: Runtime, s: MemberState, at: number, num: number, den: number, ref: string | null): void {
  const p = rt.program;
  if (!p.metric || num === 0) return;
  const w = p.window;
  if (w.kind === 'lifetime') {
    s.life = addRat(s.life, [num, den]);
    return;
  }
  const exit = w.kind === 'rolling' ? addDuration(rt, at, w.duration) : rt.zone.startOfYear(rt.zone.localYear(at) + 1);
  s.metric.push([at, exit, num, den, ref]);
}

/** Change the metric contribution of an order (refunds), wherever it is. */
function adjustOrderMetric(rt: Runtime, s: MemberState, orderId: string, at: number, delta: Rat): void {
  const p = rt.program;
  if (!p.metric || delta[0] === 0) return;
  if (p.window.kind === 'lifetime') {
    s.life = addRat(s.life, delta);
    return;
  }
  for (let i = s.metric.length - 1; i >= 0; i--) {
    const e = s.metric[i]!;
    if (e[4] === orderId && e[0] === at) {
      const v = addRat([e[2], e[3]], delta);
      e[2] = v[0];
      e[3] = v[1];
      return;
    }
  }
  // The order has left the window: nothing counts any more.
}

function pruneMetric(s: MemberState, t: number): void {
  let k = 0;
  while (k < s.metric.length && s.metric[k]![1]! <= t) k++;
  if (k) s.metric.splice(0, k);
}

/** The qualifying value at `t` (entries already pruned to `t` or not). */
export function metricValue(rt: Runtime, s: MemberState, t: number): Rat {
  if (rt.program.window.kind === 'lifetime') return s.life;
  let v: Rat = [0, 1];
  for (const e of s.metric) if (e[1] === null || e[1] > t) v = e[3] === 1 && v[1] === 1 ? [v[0] + e[2], 1] : addRat(v, [e[2], e[3]]);
  return v;
}

function tierFor(tiers: readonly Tier[], v: Rat): number {
  let i = 0;
  for (let k = 1; k < tiers.length; k++) if (ratGte(v, [tiers[k]!.threshold, 1])) i = k;
  return i;
}

export function tierIndexOf(rt: Runtime, s: MemberState): number {
  return s.tier === null ? -1 : (rt.tierIndex.get(s.tier) ?? 0);
}

export function evaluateTier(rt: Runtime, s: MemberState, t: number): void {
  const tiers = rt.program.tiers;
  if (!tiers.length) return;
  pruneMetric(s, t);
  const computed = tierFor(tiers, metricValue(rt, s, t));
  const current = tierIndexOf(rt, s);
  if (computed >= current) {
    s.tier = tiers[computed]!.name;
    s.graceUntil = null;
    return;
  }
  const keep = rt.program.keep;
  if (!keep) {
    s.tier = tiers[computed]!.name;
  } else if (s.graceUntil === null) {
    s.graceUntil = rt.zone.add(t, keep);
  } else if (t >= s.graceUntil) {
    s.tier = tiers[computed]!.name;
    s.graceUntil = null;
  }
}

/** When the member's tier could next change with time alone. */
function tierDue(rt: Runtime, s: MemberState): number {
  const tiers = rt.program.tiers;
  if (!tiers.length) return Infinity;
  if (s.graceUntil !== null) return s.graceUntil;
  const idx = tierIndexOf(rt, s);
  if (idx <= 0 || rt.program.window.kind === 'lifetime') return Infinity;
  const threshold: Rat = [tiers[idx]!.threshold, 1];
  let v = metricValue(rt, s, s.at);
  for (const e of s.metric) {
    if (e[1] === null || e[1] <= s.at) continue;
    v = addRat(v, [-e[2], e[3]]);
    if (!ratGte(v, threshold)) return e[1];
  }
  return Infinity;
}

// ---------------------------------------------------------------------------
// Time (4.1)

/** Brings a member to `t`: expiries and birthday bonuses due by then, in
 * date order (expiry first on the same instant), then the tier. */
export function bringTo(rt: Runtime, s: MemberState, t: number, out: LedgerEntry[]): void {
  prepare(rt, s);
  const p = rt.program;
  const exp = p.expire;
  const bday = p.birthday;
  for (;;) {
    let e = Infinity;
    if (exp) {
      if (exp.mode === 'lots') {
        if (s.lots.length) e = s.lots[0]![0];
      } else if (s.inactiveAt !== null) e = s.inactiveAt;
    }
    const b = s.nextBirthday ?? Infinity;
    if (e <= t && e <= b) {
      if (exp!.mode === 'lots') {
        const lot = s.lots.shift()!;
        entry(out, s, e, 'expire', -lot[1], null, null, exp!.line);
        s.balance -= lot[1];
      } else {
        if (s.balance > 0) entry(out, s, e, 'expire', -s.balance, null, null, exp!.line);
        if (s.balance > 0) s.balance = 0;
        s.inactiveAt = null;
      }
    } else if (b <= t) {
      if (bday) {
        earn(rt, s, b, bday.points, 'birthday', null, bday.line, out);
        if (p.metric === 'points') addMetric(rt, s, b, bday.points, 1, null);
      }
      const bd = parseBirthday(s.birthday!)!;
      s.nextBirthday = rt.zone.birthdayIn(rt.zone.localYear(b) + 1, bd.m, bd.d);
    } else break;
  }
  if (t > s.at) s.at = t;
  evaluateTier(rt, s, t);
}

/** The earliest time at which bringing the member forward would change
 * anything (an expiry, a birthday bonus, a tier change), or null. */
export function nextDue(program: Program, s: MemberState): number | null {
  const rt = runtime(program);
  prepare(rt, s);
  let due = Infinity;
  const exp = program.expire;
  if (exp?.mode === 'lots' && s.lots.length) due = s.lots[0]![0];
  if (exp?.mode === 'inactivity' && s.inactiveAt !== null && s.balance > 0) due = s.inactiveAt;
  if (program.birthday && s.nextBirthday !== null) due = Math.min(due, s.nextBirthday);
  due = Math.min(due, tierDue(rt, s));
  return due === Infinity ? null : due;
}

/** Brings one member to `at` (a `tick`, or the server's advanceTime). */
export function advance(program: Program, s: MemberState, at: number): LedgerEntry[] {
  const out: LedgerEntry[] = [];
  if (at < s.at) return out;
  bringTo(runtime(program), s, at, out);
  return out;
}

// ---------------------------------------------------------------------------
// Orders (4.2)

export interface Contribution {
  rule: string;
  points: number;
  line: number | null;
}

export interface OrderCalc {
  lines: OrderLineRec[];
  /** Eligible paid amount and quantity. */
  total: number;
  items: number;
  base: number;
  contributions: Contribution[];
  /** Limit uses to record if the order is accepted. */
  limitUses: [string, number, number][];
  activeClubs: boolean[];
}

function activeClubs(p: Program, s: MemberState, t: number): boolean[] {
  const flags = new Array<boolean>(p.clubs.length);
  for (let i = 0; i < p.clubs.length; i++) {
    const m = s.clubs[p.clubs[i]!.name];
    flags[i] = m !== undefined && m[0] <= t && (m[1] === null || t < m[1]);
  }
  return flags;
}

function periodKey(period: Period, f: OrderFacts, ym: () => { y: number; m: number }): number {
  switch (period) {
    case 'day':
      return f.localDay;
    case 'week':
      return Math.floor((f.localDay + 3) / 7); // weeks start on Monday
    case 'month': {
      const c = ym();
      return c.y * 12 + c.m - 1;
    }
    case 'year':
      return ym().y;
    default:
      return 0;
  }
}

/** Steps 1–7 of an order: every contribution, limits applied but not recorded. */
export function computeOrder(rt: Runtime, s: MemberState, at: number, lines: readonly OrderLine[], channel: string | null): OrderCalc {
  const p = rt.program;
  const clubs = activeClubs(p, s, at);
  const anyDiscount = rt.discounts.size > 0 && clubs.includes(true);
  const recs: OrderLineRec[] = new Array(lines.length);
  let total = 0;
  let items = 0;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const amount = l.qty * l.price;
    let paid = amount;
    if (anyDiscount) {
      const ds = rt.discounts.get(l.category);
      if (ds) {
        // The largest matching discount among the member's active clubs.
        let best = 0;
        for (const [ci, n, d] of ds) if (clubs[ci]) best = Math.max(best, mulDivFloor(amount, n, 100 * d));
        paid = amount - best;
      }
    }
    const eligible = !p.excludeCategories.has(l.category) && !p.excludeSkus.has(l.sku);
    if (eligible) {
      total += paid;
      items += l.qty;
    }
    recs[i] = [l.sku, l.qty, paid, eligible ? 1 : 0, 0];
  }
  const contributions: Contribution[] = [];
  const limitUses: [string, number, number][] = [];
  const rate = p.base?.rate;
  const base = rate ? mulDivFloor(total, rate.n, rate.d) : 0;
  if (base > 0) contributions.push({ rule: 'base', points: base, line: p.base!.line });

  if (items > 0 && p.rules.length) {
    const tier = tierIndexOf(rt, s);
    let localDay = 0;
    let msOfDay = 0;
    if (rt.needsLocal) {
      const local = rt.zone.toLocal(at);
      localDay = Math.floor(local / DAY);
      msOfDay = local - localDay * DAY;
    }
    const facts: OrderFacts = {
      total,
      items,
      channel,
      tier,
      clubs,
      firstOrder: s.orders === 0,
      localDay,
      weekday: (((localDay + 3) % 7) + 7) % 7,
      msOfDay,
    };
    let civil: { y: number; m: number } | undefined;
    const ym = () => (civil ??= civilFromDays(localDay));
    for (const r of p.rules) {
      if (r.condition !== null && !r.condition(facts)) continue;
      let mPaid = total;
      let mQty = items;
      if (r.matches !== null) {
        mPaid = 0;
        mQty = 0;
        let any = false;
        for (let i = 0; i < recs.length; i++) {
          const rec = recs[i]!;
          if (rec[3] === 1 && r.matches(lines[i]!.category, rec[0])) {
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
          if (lim.unit === 'points') c = Math.min(c, lim.amount);
        } else {
          const key = periodKey(lim.period, facts, ym);
          const st = s.limits[r.name];
          const used = st !== undefined && st[0] === key ? st[1] : 0;
          if (lim.unit === 'points') {
            c = Math.min(c, lim.amount - used);
            if (c <= 0) continue;
            limitUses.push([r.name, key, used + c]);
          } else {
            if (used >= lim.amount) continue;
            limitUses.push([r.name, key, used + 1]);
          }
        }
        if (c <= 0) continue;
      }
      contributions.push({ rule: r.name, points: c, line: r.effectLine });
    }
  }

  // Step 6: the tier held at the start of the order, on the integer base.
  if (base > 0) {
    const t = p.tiers[tierIndexOf(rt, s)];
    if (t?.multiplier) {
      const c = mulDivFloor(t.multiplier.n - t.multiplier.d, base, t.multiplier.d);
      if (c > 0) contributions.push({ rule: `tier:${t.name}`, points: c, line: t.multiplierLine });
    }
    // Step 7: clubs, in declaration order.
    for (const club of p.clubs) {
      if (!clubs[club.index] || !club.multiplier) continue;
      const c = mulDivFloor(club.multiplier.n - club.multiplier.d, base, club.multiplier.d);
      if (c > 0) contributions.push({ rule: `club:${club.name}`, points: c, line: club.multiplierLine });
    }
  }
  return { lines: recs, total, items, base, contributions, limitUses, activeClubs: clubs };
}

function effectPoints(r: Rule, paid: number, qty: number, rate: { n: number; d: number } | undefined): number {
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

/** Whether the member's order earns the referral rewards (step 8). */
function referralApplies(rt: Runtime, s: MemberState, at: number, total: number): boolean {
  const ref = rt.program.referral;
  if (!ref || s.referrer === null || s.orders !== 0 || total < ref.minOrder) return false;
  return ref.within === null || at <= rt.zone.add(s.signupAt, ref.within);
}

function applyOrder(rt: Runtime, s: MemberState, ev: Extract<EngineEvent, { type: 'order' }>, world: World, out: LedgerEntry[], changed: MemberState[]): string | null {
  if (world.orderIdTaken?.(ev.id) || s.orderLog[ev.id] !== undefined) return `duplicate order id "${ev.id}"`;
  const p = rt.program;
  const calc = computeOrder(rt, s, ev.at, ev.lines, ev.channel ?? null);
  for (const [name, key, used] of calc.limitUses) s.limits[name] = [key, used];
  let e = 0;
  for (const c of calc.contributions) {
    earn(rt, s, ev.at, c.points, c.rule, ev.id, c.line, out);
    e += c.points;
  }
  let memberPoints = e;
  const ref = p.referral;
  if (ref && referralApplies(rt, s, ev.at, calc.total)) {
    if (ref.referee > 0) {
      earn(rt, s, ev.at, ref.referee, 'referral:referee', ev.id, ref.refereeLine, out);
      memberPoints += ref.referee;
    }
    const r = ref.referrer > 0 ? world.get(s.referrer!) : undefined;
    if (r) {
      const year = rt.zone.localYear(ev.at);
      const count = r.refYear === year ? r.refCount : 0;
      if (ref.limitPerYear === null || count < ref.limitPerYear) {
        bringTo(rt, r, ev.at, out);
        r.refYear = year;
        r.refCount = count + 1;
        earn(rt, r, ev.at, ref.referrer, 'referral:referrer', ev.id, ref.referrerLine, out);
        if (p.metric === 'points') addMetric(rt, r, ev.at, ref.referrer, 1, null);
        evaluateTier(rt, r, ev.at);
        changed.push(r);
      }
    }
  }
  s.orderLog[ev.id] = { at: ev.at, e, p: calc.total, rev: 0, lines: calc.lines };
  s.orders += 1;
  // Step 10: tier progress.
  if (p.metric === 'spend') addMetric(rt, s, ev.at, calc.total, 1, ev.id);
  else if (p.metric === 'points') addMetric(rt, s, ev.at, memberPoints, 1, ev.id);
  else if (p.metric === 'orders') addMetric(rt, s, ev.at, 1, 1, ev.id);
  evaluateTier(rt, s, ev.at);
  return null;
}

// ---------------------------------------------------------------------------
// Refunds (4.8)

function applyRefund(rt: Runtime, s: MemberState, ev: Extract<EngineEvent, { type: 'refund' }>, out: LedgerEntry[]): string | null {
  const o = s.orderLog[ev.order];
  if (!o) return `unknown order "${ev.order}" for member "${s.id}"`;
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
    if (!found) return `sku "${sku}" is not on order "${ev.order}"`;
    if (qty > left) return `refund of ${qty} x ${sku} exceeds the ${left} not yet refunded`;
  }
  const before = refundedEligible(o.lines);
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
  // −(floor(E × R / P) − already reversed), with R exact.
  if (o.p > 0) {
    const target = Number((BigInt(o.e) * BigInt(after[0])) / (BigInt(o.p) * BigInt(after[1])));
    const delta = target - o.rev;
    if (delta > 0) {
      entry(out, s, ev.at, 'reverse', -delta, null, ev.order, null);
      consume(rt, s, delta);
      o.rev += delta;
      if (rt.program.metric === 'points') adjustOrderMetric(rt, s, ev.order, o.at, [-delta, 1]);
    }
  }
  if (rt.program.metric === 'spend') adjustOrderMetric(rt, s, ev.order, o.at, addRat(before, [-after[0], after[1]]));
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

function applyRedeem(rt: Runtime, s: MemberState, ev: Extract<EngineEvent, { type: 'redeem' }>, out: LedgerEntry[]): string | null {
  const r = rt.program.redeem;
  if (!r) return 'the program has no redeem section';
  if (ev.points < r.min) return `redeem of ${ev.points} is below the minimum of ${r.min}`;
  if (ev.points > s.balance) return `redeem of ${ev.points} exceeds the balance of ${s.balance}`;
  if (ev.orderTotal !== null && ev.orderTotal !== undefined && r.maxPercent) {
    const value = mulDivFloor(ev.points, r.value, r.points);
    const m = r.maxPercent;
    if (BigInt(value) * 100n * BigInt(m.d) > BigInt(m.n) * BigInt(ev.orderTotal)) return `redeem worth ${value} minor units exceeds ${m.n / m.d}% of the order`;
  }
  entry(out, s, ev.at, 'redeem', -ev.points, null, null, r.line);
  consume(rt, s, ev.points);
  const exp = rt.program.expire;
  if (exp?.mode === 'inactivity') s.inactiveAt = addDuration(rt, ev.at, exp.after);
  evaluateTier(rt, s, ev.at);
  return null;
}

function clubByName(p: Program, name: string): Club | undefined {
  const i = p.clubIndex.get(name);
  return i === undefined ? undefined : p.clubs[i];
}

function isActive(m: [number, number | null] | undefined, t: number): boolean {
  return m !== undefined && m[0] <= t && (m[1] === null || t < m[1]);
}

function applyJoin(rt: Runtime, s: MemberState, ev: Extract<EngineEvent, { type: 'join_club' }>, out: LedgerEntry[]): string | null {
  const club = clubByName(rt.program, ev.club);
  if (!club) return `unknown club "${ev.club}"`;
  const prev = s.clubs[club.name];
  if (isActive(prev, ev.at)) return `member "${s.id}" is already in club "${club.name}"`;
  const end = club.fee ? rt.zone.add(ev.at, { amount: 1, unit: club.fee.per }) : null;
  s.clubs[club.name] = [ev.at, end];
  if (prev === undefined && club.joinBonus > 0) {
    earn(rt, s, ev.at, club.joinBonus, `club:${club.name}:join`, null, club.joinLine, out);
    if (rt.program.metric === 'points') addMetric(rt, s, ev.at, club.joinBonus, 1, null);
    evaluateTier(rt, s, ev.at);
  }
  return null;
}

function applyCancel(rt: Runtime, s: MemberState, ev: Extract<EngineEvent, { type: 'cancel_club' }>): string | null {
  const club = clubByName(rt.program, ev.club);
  if (!club) return `unknown club "${ev.club}"`;
  const m = s.clubs[club.name];
  if (!isActive(m, ev.at)) return `member "${s.id}" is not in club "${club.name}"`;
  m![1] = ev.at;
  return null;
}

function applyNamedEvent(rt: Runtime, s: MemberState, ev: Extract<EngineEvent, { type: 'event' }>, out: LedgerEntry[]): string | null {
  const b = rt.program.events.get(ev.name);
  if (!b) return null; // no section for it: nothing written, not an error
  let points = b.points;
  const lim = b.limit;
  const key = `event:${b.name}`;
  let use: [number, number] | null = null;
  if (lim) {
    const day = rt.zone.localDay(ev.at);
    const k = lim.period === 'day' ? day : lim.period === 'week' ? Math.floor((day + 3) / 7) : lim.period === 'month' ? monthKey(day) : lim.period === 'year' ? civilFromDays(day).y : 0;
    const st = s.limits[key];
    const used = st !== undefined && st[0] === k ? st[1] : 0;
    if (lim.unit === 'points') {
      points = Math.min(points, lim.amount - used);
      use = [k, used + Math.max(points, 0)];
    } else {
      if (used >= lim.amount) points = 0;
      use = [k, used + 1];
    }
  }
  if (points <= 0) return null;
  if (use) s.limits[key] = use;
  earn(rt, s, ev.at, points, `event:${b.name}`, null, b.line, out);
  if (rt.program.metric === 'points') addMetric(rt, s, ev.at, points, 1, null);
  evaluateTier(rt, s, ev.at);
  return null;
}

function monthKey(day: number): number {
  const c = civilFromDays(day);
  return c.y * 12 + c.m - 1;
}

// ---------------------------------------------------------------------------
// The entry point

export function applyEvent(program: Program, ev: EngineEvent, world: World): Outcome {
  const rt = runtime(program);
  const out: LedgerEntry[] = [];
  const changed: MemberState[] = [];
  const done = (error: string | null): Outcome => ({ error, entries: out, changed });
  if (ev.type === 'tick') return done('a tick brings every member forward: call advance for each member');

  if (ev.type === 'signup') {
    const existing = world.get(ev.member);
    if (existing) {
      if (ev.at >= existing.at) {
        bringTo(rt, existing, ev.at, out);
        changed.push(existing);
      }
      return done(`member "${ev.member}" already signed up`);
    }
    const referrer = ev.referrer ?? null;
    if (referrer !== null) {
      if (referrer === ev.member) return done(`member "${ev.member}" cannot refer itself`);
      if (!world.get(referrer)) return done(`unknown referrer "${referrer}"`);
    }
    const s = newMember(rt, ev.member, ev.at, ev.birthday ?? null, referrer);
    changed.push(s);
    if (program.signup) {
      earn(rt, s, ev.at, program.signup.points, 'signup', null, program.signup.line, out);
      if (program.metric === 'points') addMetric(rt, s, ev.at, program.signup.points, 1, null);
    }
    evaluateTier(rt, s, ev.at);
    return done(null);
  }

  const s = world.get(ev.member);
  if (!s) return done(`unknown member "${ev.member}"`);
  if (ev.at < s.at) return done(`event at ${formatInstant(ev.at)} is earlier than member "${s.id}"'s last event (${formatInstant(s.at)})`);
  bringTo(rt, s, ev.at, out);
  changed.push(s);
  return done(applyMemberEvent(rt, s, ev, world, out, changed));
}

function applyMemberEvent(rt: Runtime, s: MemberState, ev: Exclude<MemberEvent, { type: 'signup' }>, world: World, out: LedgerEntry[], changed: MemberState[]): string | null {
  switch (ev.type) {
    case 'order':
      return applyOrder(rt, s, ev, world, out, changed);
    case 'refund':
      return applyRefund(rt, s, ev, out);
    case 'redeem':
      return applyRedeem(rt, s, ev, out);
    case 'join_club':
      return applyJoin(rt, s, ev, out);
    case 'cancel_club':
      return applyCancel(rt, s, ev);
    case 'event':
      return applyNamedEvent(rt, s, ev, out);
  }
}

/** Clubs whose membership is active at `t`, sorted by name. */
export function clubsAt(program: Program, s: MemberState, t: number): string[] {
  return program.clubs
    .filter((c) => isActive(s.clubs[c.name], t))
    .map((c) => c.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export { referralApplies };
