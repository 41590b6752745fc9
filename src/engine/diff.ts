// Backtesting a program change: the same events replayed under two programs
// (`before`, the one in use, and `after`, a draft), compared member by member
// and in totals. ProgramDiff decodes each line once and gives it to both
// sides; a caller with two threads can replay each DiffSide apart (decoding
// alike, with `before`) and compare the two SideResults (compareSides). With
// `from`, the draft applies only from that instant: until then both sides
// replay `before`, and at `from` the `after` side carries its members into
// the draft as publishing it would (carry.ts).
import type { Program } from '../../dsl/program.ts';
import { parseEvent } from './events.ts';
import { FastLineParser } from './jsonl.ts';
import { Replay, type DecodedLine, type ReplayError } from './replay.ts';
import { formatCurrency } from './refusals.ts';
import { parseDate } from '../../dsl/values.ts';
import { formatInstant, parseInstant, zoneFor, type InstantResult } from './time.ts';
import type { EntryKind } from './types.ts';

export interface DiffOptions {
  /** The instant (epoch ms) from which `after` applies; absent: from the start. */
  from?: number;
}

/** What `loyalty replay` gives for a member, less the ledger. */
export interface MemberSummary {
  balance: number;
  tier: string | null;
  clubs: string[];
}

export interface MemberDiff {
  id: string;
  before: MemberSummary;
  after: MemberSummary;
  /** Points earned by rule (earn entries only), on each side. */
  byRule: { before: Record<string, number>; after: Record<string, number> };
}

export interface SideTotals {
  program: string;
  /** The program version (sha256 of its source). */
  version: string;
  members: number;
  /** Points written by earn entries, in total and by rule. */
  earned: number;
  earnedByRule: Record<string, number>;
  /** Points taken by redeem, expire and reverse entries (as positive numbers). */
  redeemed: number;
  expired: number;
  reversed: number;
  /** Net points of staff corrections (adjust entries, either sign). */
  adjusted: number;
  /** Sum of the balances at the end: earned − redeemed − expired − reversed + adjusted. */
  outstanding: number;
  /** What `outstanding` is worth at the program's redeem rate, e.g. "123.45 USD"
   * (floor of outstanding × X / N minor units); null without a `redeem` section. */
  outstandingValue: string | null;
  /** Members per tier at the end, in the program's tier order (tier null: no tiers). */
  tiers: { tier: string | null; members: number }[];
  /** Refused or malformed events. */
  errors: number;
}

export interface ChangedCounts {
  /** Members whose balance, tier or clubs differ. */
  members: number;
  balance: number;
  tier: number;
  clubs: number;
}

export interface TierMove {
  from: string | null;
  to: string | null;
  members: number;
}

export interface DiffResult {
  /** When `after` starts to apply (UTC), null: from the start. */
  from: string | null;
  totals: { before: SideTotals; after: SideTotals; changed: ChangedCounts };
  /** Members by (tier before, tier after), every pair that has any, before's tier order then after's. */
  tierMatrix: TierMove[];
  /** Members whose balance, tier or clubs differ: |Δbalance| descending, then id. */
  members: MemberDiff[];
  /** The errors of each side (the same line can be refused on one side only). */
  errors: { before: ReplayError[]; after: ReplayError[] };
}

/** Decodes event lines once for both sides, as Replay itself would (the
 * byte-level fast path, else JSON.parse and parseEvent). Both sides decode
 * with `before` (the programs share their currency), so a line is read alike
 * on both, whether the sides run together or apart. */
export class LineDecoder {
  private readonly fast: FastLineParser;
  constructor(private readonly program: Program) {
    this.fast = new FastLineParser(program.currencyExponent);
  }

  /** null for a blank line. */
  text(text: string): DecodedLine | null {
    if (text.trim() === '') return null;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      return { error: `not valid JSON: ${(e as Error).message}` };
    }
    const r = parseEvent(this.program, value);
    return r.error !== undefined ? { error: r.error } : { event: r.event };
  }

  bytes(buf: Buffer, a: number, b: number): DecodedLine | null {
    let i = a;
    while (i < b && (buf[i] === 32 || buf[i] === 9 || buf[i] === 13)) i++;
    if (i === b) return null;
    const ev = this.fast.parse(buf, a, b);
    return ev === null ? this.text(buf.toString('utf8', a, b)) : { event: ev };
  }
}

/** What one side of a diff ends with: its totals, members and errors. Plain
 * data (maps, arrays, numbers), so a side replayed in a worker thread can be
 * posted back whole. */
export interface SideResult {
  totals: SideTotals;
  members: Map<string, MemberSummary>;
  /** Points earned by rule, by member (members with no earn entry: absent). */
  byRule: Map<string, Record<string, number>>;
  errors: ReplayError[];
  /** Non-blank lines read. */
  lines: number;
}

/**
 * One side of a diff: `program` replayed over the decoded lines; with
 * `from`, `base` (the program in use) until the first event at or after it,
 * when the members are carried into `program` as publishing it would.
 */
export class DiffSide {
  readonly replay: Replay;
  private carried: boolean;

  constructor(
    base: Program,
    private readonly program: Program,
    private readonly from?: number,
  ) {
    this.replay = new Replay(from === undefined ? program : base);
    this.carried = from === undefined;
  }

  push(d: DecodedLine, line: number): void {
    if (!this.carried && 'event' in d && d.event.at >= this.from!) this.carry();
    this.replay.pushDecoded(d, line);
  }

  private carry(): void {
    this.carried = true;
    this.replay.adopt(this.program);
  }

  /** The side at the end (a `from` after the last event: the draft is published at the end). */
  result(): SideResult {
    if (!this.carried) this.carry();
    return { ...sideOf(this.replay), errors: this.replay.errors, lines: this.replay.lines };
  }
}

/** The two sides of a diff over the same lines. */
export function diffSides(before: Program, after: Program, opts: DiffOptions = {}): { before: DiffSide; after: DiffSide } {
  if (before.currency !== after.currency || before.currencyExponent !== after.currencyExponent)
    throw new Error(`the programs are in different currencies (${before.currency}, ${after.currency}): their events cannot be read alike`);
  return { before: new DiffSide(before, before), after: new DiffSide(before, after, opts.from) };
}

/** Replays events under two programs, one line at a time, each line decoded
 * once for both; `result()` compares them. */
export class ProgramDiff {
  private readonly sides: { before: DiffSide; after: DiffSide };
  private readonly decoder: LineDecoder;

  constructor(
    private readonly beforeProgram: Program,
    private readonly afterProgram: Program,
    private readonly opts: DiffOptions = {},
  ) {
    this.sides = diffSides(beforeProgram, afterProgram, opts);
    this.decoder = new LineDecoder(beforeProgram);
  }

  get before(): Replay {
    return this.sides.before.replay;
  }
  get after(): Replay {
    return this.sides.after.replay;
  }

  pushLine(text: string, line: number): void {
    this.push(this.decoder.text(text), line);
  }

  pushBytes(buf: Buffer, a: number, b: number, line: number): void {
    this.push(this.decoder.bytes(buf, a, b), line);
  }

  /** Lines given as text (none holding a newline), numbered from
   * `firstLine`: decoded by the byte-level path through one buffer for the
   * batch, instead of JSON.parse a line. */
  pushTexts(texts: readonly string[], firstLine: number): void {
    if (texts.length === 0) return;
    const buf = Buffer.from(texts.join('\n'), 'utf8');
    let n = firstLine;
    for (let a = 0; ; ) {
      const nl = buf.indexOf(10, a);
      this.pushBytes(buf, a, nl < 0 ? buf.length : nl, n++);
      if (nl < 0) break;
      a = nl + 1;
    }
  }

  private push(d: DecodedLine | null, line: number): void {
    if (d === null) return;
    this.sides.before.push(d, line);
    this.sides.after.push(d, line);
  }

  result(): DiffResult {
    return compareSides(this.sides.before.result(), this.sides.after.result(), this.beforeProgram, this.afterProgram, this.opts);
  }
}

/** The comparison of two sides replayed over the same lines (together, or apart in two threads). */
export function compareSides(before: SideResult, after: SideResult, beforeProgram: Program, afterProgram: Program, opts: DiffOptions = {}): DiffResult {
  const members: MemberDiff[] = [];
  const changed: ChangedCounts = { members: 0, balance: 0, tier: 0, clubs: 0 };
  const moves = new Map<string | null, Map<string | null, number>>();
  for (const id of new Set([...before.members.keys(), ...after.members.keys()])) {
    const b = before.members.get(id) ?? NO_MEMBER;
    const a = after.members.get(id) ?? NO_MEMBER;
    const row = moves.get(b.tier) ?? new Map<string | null, number>();
    moves.set(b.tier, row.set(a.tier, (row.get(a.tier) ?? 0) + 1));
    const balance = b.balance !== a.balance;
    const tier = b.tier !== a.tier;
    const clubs = b.clubs.join('\n') !== a.clubs.join('\n');
    if (!balance && !tier && !clubs) continue;
    changed.members++;
    if (balance) changed.balance++;
    if (tier) changed.tier++;
    if (clubs) changed.clubs++;
    members.push({ id, before: b, after: a, byRule: { before: before.byRule.get(id) ?? {}, after: after.byRule.get(id) ?? {} } });
  }
  members.sort((x, y) => Math.abs(y.after.balance - y.before.balance) - Math.abs(x.after.balance - x.before.balance) || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  return {
    from: opts.from === undefined ? null : formatInstant(opts.from),
    totals: { before: before.totals, after: after.totals, changed },
    tierMatrix: tierMatrix(moves, beforeProgram, afterProgram),
    members,
    errors: { before: before.errors, after: after.errors },
  };
}

const NO_MEMBER: MemberSummary = { balance: 0, tier: null, clubs: [] };

/** Diffs two programs over event lines (1-based numbers, blank lines included). */
export function diffPrograms(before: Program, after: Program, lines: Iterable<string>, opts: DiffOptions = {}): DiffResult {
  const d = new ProgramDiff(before, after, opts);
  let n = 0;
  for (const line of lines) d.pushLine(line, ++n);
  return d.result();
}


const TAKEN: Record<Exclude<EntryKind, 'earn' | 'adjust'>, 'redeemed' | 'expired' | 'reversed'> = { redeem: 'redeemed', expire: 'expired', reverse: 'reversed' };

function sideOf(r: Replay): Omit<SideResult, 'errors' | 'lines'> {
  const program = r.program;
  const totals: SideTotals = {
    program: program.name,
    version: program.hash,
    members: r.members.size,
    earned: 0,
    earnedByRule: {},
    redeemed: 0,
    expired: 0,
    reversed: 0,
    adjusted: 0,
    outstanding: 0,
    outstandingValue: null,
    tiers: program.tiers.length ? program.tiers.map((t) => ({ tier: t.name, members: 0 })) : [{ tier: null, members: 0 }],
    errors: r.errors.length,
  };
  const byRule = new Map<string, Record<string, number>>();
  r.forEachEntry((member, kind, points, rule) => {
    if (kind === 'adjust') {
      totals.adjusted += points;
      return;
    }
    if (kind !== 'earn') {
      totals[TAKEN[kind]] -= points;
      return;
    }
    const name = rule ?? '';
    totals.earned += points;
    totals.earnedByRule[name] = (totals.earnedByRule[name] ?? 0) + points;
    let mine = byRule.get(member);
    if (mine === undefined) byRule.set(member, (mine = {}));
    mine[name] = (mine[name] ?? 0) + points;
  });
  const members = new Map<string, MemberSummary>();
  const tierIndex = new Map(totals.tiers.map((t, i) => [t.tier, i]));
  for (const [id, s] of r.members) {
    const m = r.summary(s);
    members.set(id, m);
    totals.outstanding += m.balance;
    totals.tiers[tierIndex.get(m.tier)!]!.members++;
  }
  const value = redeemValue(program, totals.outstanding);
  if (value !== null) totals.outstandingValue = formatCurrency(program, value);
  return { totals, members, byRule };
}

/** A diff's `from` as text: a date (00:00 that day in the program's
 * timezone, when a publish made that morning would take effect) or an
 * instant as events give it. */
export function parseFrom(program: Program, text: string): InstantResult {
  const day = parseDate(text);
  if (day !== null) return { ok: true, ms: zoneFor(program.timezone).startOfDay(day) };
  // No instant is this short: it was meant as a date.
  if (text.length === 10) return { ok: false, error: `${JSON.stringify(text)} is not a date` };
  return parseInstant(text);
}

/** What `points` are worth at the program's redeem rate, in minor units
 * (dsl.md 4.6: floor(P × X / N)); null when the program has no `redeem`. */
export function redeemValue(program: Program, points: number): number | null {
  return program.redeem ? Math.floor((points * program.redeem.value) / program.redeem.points) : null;
}

function tierMatrix(moves: Map<string | null, Map<string | null, number>>, before: Program, after: Program): TierMove[] {
  const order = (p: Program): (string | null)[] => (p.tiers.length ? p.tiers.map((t) => t.name) : [null]);
  const out: TierMove[] = [];
  for (const from of order(before)) for (const to of order(after)) {
    const n = moves.get(from)?.get(to);
    if (n) out.push({ from, to, members: n });
  }
  return out;
}
