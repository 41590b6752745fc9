// Replay (replay.md): the engine with no database. Events come in one line at
// a time; members live in memory; a `tick` touches only the members that
// something falls due for (a column of due times).
import type { Program } from '../../dsl/program.ts';
import { carryOver } from './carry.ts';
import { applyEvent, clubsAt, advance, evaluation, pendingPoints, type ApplyOptions, type EntrySink, type Evaluation, type OrderSink } from './engine.ts';
import { parseEvent } from './events.ts';
import { FastLineParser } from './jsonl.ts';
import { formatInstant } from './time.ts';
import type { EngineEvent, LedgerEntry, MemberState, OrderLine, OrderRec, Outcome, World } from './types.ts';

export interface ResultEntry {
  at: string;
  kind: LedgerEntry['kind'];
  points: number;
  rule: string | null;
  ref: string | null;
}

export interface MemberResult {
  balance: number;
  /** Points scheduled and not yet written; only when the program has `pending` (replay.md). */
  pending?: number;
  tier: string | null;
  clubs: string[];
  ledger: ResultEntry[];
}

export interface ReplayError {
  line: number;
  message: string;
}

export interface ReplayResult {
  members: Record<string, MemberResult>;
  errors: ReplayError[];
}

export interface ReplayOptions {
  /** Round-trip every changed member state through JSON after each event,
   * as the server does (tests use it to show the state is a plain value). */
  serializeStates?: boolean;
  /** Called for every ledger entry written, with the event's line number. */
  onEntry?: (e: LedgerEntry, line: number) => void;
  /** Which order evaluation runs (tests compare the two; default 'generated'). */
  orders?: 'generated' | 'reference';
}

const KINDS: LedgerEntry['kind'][] = ['earn', 'redeem', 'expire', 'reverse', 'adjust'];
const KIND_CODE: Record<LedgerEntry['kind'], number> = { earn: 0, redeem: 1, expire: 2, reverse: 3, adjust: 4 };

const CHUNK_BITS = 16;
const CHUNK = 1 << CHUNK_BITS;
const LOW = CHUNK - 1;

/** Values numbered in the order first seen (rule names, skus): columns keep
 * the small number. The last value asked for is remembered (entries and
 * lines often repeat it), which spares a hash lookup. */
class Interner<T> {
  readonly values: T[] = [];
  private readonly index = new Map<T, number>();
  private last: T | undefined = undefined;
  private lastIdx = -1;

  numberOf(v: T): number {
    if (v === this.last && this.lastIdx >= 0) return this.lastIdx;
    let k = this.index.get(v);
    if (k === undefined) {
      k = this.values.length;
      this.values.push(v);
      this.index.set(v, k);
    }
    this.last = v;
    this.lastIdx = k;
    return k;
  }
}

/**
 * Every ledger entry of a replay, in columns of typed arrays rather than an
 * object each: a million-event replay writes millions of entries, and this
 * keeps them out of the garbage collector's way. The columns grow by chunks
 * of 64K entries (no copying, and no large reallocations that make V8
 * collect early).
 */
class LedgerColumns {
  size = 0;
  private member: Int32Array[] = [];
  private at: Float64Array[] = [];
  private points: Float64Array[] = [];
  private kind: Uint8Array[] = [];
  private rule: Int32Array[] = [];
  private line: Int32Array[] = [];
  /** The entry's ref as the index of an order in the replay's OrderColumns (-1: none). */
  private ref: Int32Array[] = [];
  private readonly rules = new Interner<string | null>();

  push(member: number, at: number, kind: LedgerEntry['kind'], points: number, rule: string | null, ref: number, line: number | null): void {
    const i = this.size++;
    const c = i >>> CHUNK_BITS;
    const o = i & LOW;
    if (o === 0) this.grow();
    const r = this.rules.numberOf(rule);
    this.member[c]![o] = member;
    this.at[c]![o] = at;
    this.points[c]![o] = points;
    this.kind[c]![o] = KIND_CODE[kind];
    this.rule[c]![o] = r;
    this.line[c]![o] = line ?? 0;
    this.ref[c]![o] = ref;
  }

  private grow(): void {
    this.member.push(new Int32Array(CHUNK));
    this.at.push(new Float64Array(CHUNK));
    this.points.push(new Float64Array(CHUNK));
    this.kind.push(new Uint8Array(CHUNK));
    this.rule.push(new Int32Array(CHUNK));
    this.line.push(new Int32Array(CHUNK));
    this.ref.push(new Int32Array(CHUNK));
  }

  memberOf(i: number): number {
    return this.member[i >>> CHUNK_BITS]![i & LOW]!;
  }
  atOf(i: number): number {
    return this.at[i >>> CHUNK_BITS]![i & LOW]!;
  }
  pointsOf(i: number): number {
    return this.points[i >>> CHUNK_BITS]![i & LOW]!;
  }
  kindOf(i: number): LedgerEntry['kind'] {
    return KINDS[this.kind[i >>> CHUNK_BITS]![i & LOW]!]!;
  }
  ruleOf(i: number): string | null {
    return this.rules.values[this.rule[i >>> CHUNK_BITS]![i & LOW]!]!;
  }
  lineOf(i: number): number | null {
    return this.line[i >>> CHUNK_BITS]![i & LOW]! || null;
  }
  refOf(i: number): number {
    return this.ref[i >>> CHUNK_BITS]![i & LOW]!;
  }

  /** Entry indices grouped by member, each group in write order (a counting sort). */
  byMember(members: number): { start: Int32Array; order: Int32Array } {
    const start = new Int32Array(members + 1);
    for (let i = 0; i < this.size; i++) start[this.memberOf(i) + 1]!++;
    for (let m = 0; m < members; m++) start[m + 1]! += start[m]!;
    const next = start.slice(0, members);
    const order = new Int32Array(this.size);
    for (let i = 0; i < this.size; i++) order[next[this.memberOf(i)]!++] = i;
    return { start, order };
  }

  entry(i: number, atText: (ms: number) => string, orderId: (i: number) => string): ResultEntry {
    const ref = this.refOf(i);
    return { at: atText(this.atOf(i)), kind: this.kindOf(i), points: this.pointsOf(i), rule: this.ruleOf(i), ref: ref < 0 ? null : orderId(ref) };
  }
}

/**
 * The members' due times in one column by member index, and a bound below
 * which none of them falls: a tick that reaches the bound scans the column
 * in member order, as the hand-written replay does. A scan reads 8 bytes a
 * member, in order; the min-heap this replaces had every event move its
 * member within the heap (a few random reads of scattered entries) and
 * every tick sift through it, which cost the v2 benchmark more (measured:
 * see bench/README.md, "Ticks as a scan"). Ticks in the stream are daily; a
 * stream with a tick a minute and a million members would want the heap
 * back.
 */
class DueTimes {
  /** By member index: its due time (NEVER, or Infinity before it is set: nothing due). */
  private at = new Float64Array(1024).fill(Infinity);
  private n = 0;
  /** No member is due before this (it may be lower than the earliest). */
  private min = Infinity;

  /** Sets member `m`'s due time (state.ts NEVER: nothing due, and later than any tick). */
  set(m: number, due: number): void {
    if (m >= this.at.length) {
      const b = new Float64Array(Math.max(m + 1, this.at.length * 2)).fill(Infinity);
      b.set(this.at);
      this.at = b;
    }
    if (m >= this.n) this.n = m + 1;
    this.at[m] = due;
    if (due < this.min) this.min = due;
  }

  /** The members due by `t`, in member order, into `out`; those left are
   * due after `t` (the bound is raised to the earliest of them: the
   * members in `out` are set again once brought forward). */
  takeDue(t: number, out: number[]): void {
    if (!(this.min <= t)) return;
    const at = this.at;
    let min = Infinity;
    for (let m = 0; m < this.n; m++) {
      const d = at[m]!;
      if (d <= t) {
        out.push(m);
        at[m] = Infinity;
      } else if (d < min) min = d;
    }
    this.min = min;
  }
}

/**
 * Id → index, an open-addressing hash table over an array of the ids (order
 * ids, member ids). A Map would do, but recording an order costs it two hash
 * operations (the duplicate check, then the insert) on a table of up to
 * millions of entries; here the check's probe position is kept for the
 * insert that follows it, and the table is one Int32Array (measured: about
 * 10% of the replay's evaluation time on the coffee-chain benchmark). Each
 * slot holds the id's index and its hash side by side: a probe compares
 * hashes within the slot's cache line, and reads an id (elsewhere in
 * memory) only when they match. (With the hashes in a second array by
 * index, every probe of a table of a million orders read two scattered
 * places, and the CPU profile put a third of the look-up's time there.)
 */
export class IdIndex {
  /** Two numbers a slot: the index (-1: empty), then the id's hash. */
  private slots = new Int32Array(2 << 12).fill(-1);
  /** Slots - 1. */
  private mask = (1 << 12) - 1;
  private count = 0;
  /** Where the last failed lookup stopped: the slot its id goes in. */
  private missId: string | undefined = undefined;
  private missHash = 0;
  private missSlot = -1;
  /** A per-process seed, so ids cannot be chosen to collide. */
  private static readonly seed = (Math.random() * 0x7fffffff) | 0;

  constructor(private readonly ids: readonly string[]) {}

  private static hash(id: string): number {
    let h = IdIndex.seed ^ 0x811c9dc5;
    for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
    return h ^ (h >>> 15);
  }

  /** The index of `id`, or -1. */
  get(id: string): number {
    // Asked again after a miss, with nothing added since (an order's
    // duplicate check, then its insert): still a miss, at the same slot.
    if (id === this.missId) return -1;
    const h = IdIndex.hash(id);
    const slots = this.slots;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const k = slots[2 * i]!;
      if (k < 0) {
        this.missId = id;
        this.missHash = h;
        this.missSlot = i;
        return -1;
      }
      if (slots[2 * i + 1] === h && this.ids[k] === id) return k;
    }
  }

  /** Records `id` (not yet present) at index `k`. */
  add(id: string, k: number): void {
    if (this.missId !== id && this.get(id) >= 0) throw new Error(`id "${id}" is already recorded`);
    this.missId = undefined;
    this.slots[2 * this.missSlot] = k;
    this.slots[2 * this.missSlot + 1] = this.missHash;
    if (++this.count * 2 > this.mask) this.grow();
  }

  private grow(): void {
    const size = (this.mask + 1) * 2;
    const slots = new Int32Array(2 * size).fill(-1);
    const mask = size - 1;
    const old = this.slots;
    for (let j = 0; j < old.length; j += 2) {
      const k = old[j]!;
      if (k < 0) continue;
      const h = old[j + 1]!;
      let i = h & mask;
      while (slots[2 * i]! >= 0) i = (i + 1) & mask;
      slots[2 * i] = k;
      slots[2 * i + 1] = h;
    }
    this.slots = slots;
    this.mask = mask;
  }
}

/** A column chunk on the JavaScript heap (OrderColumns): of small integers,
 * which V8 keeps as untagged Smis (4 bytes), or of doubles, kept unboxed (8
 * bytes). Neither holds a pointer for the collector to follow, and a number
 * too large for a Smi turns the chunk into doubles rather than wrapping. */
const intChunk = (): number[] => new Array<number>(CHUNK).fill(0);
const doubleChunk = (): number[] => new Array<number>(CHUNK).fill(0.5);

/**
 * Accepted orders, in columns: a replay keeps every order for refunds, and
 * a million of them as objects would keep the garbage collector busy. Records
 * are materialized on demand (refunds, duplicate ids) and written back.
 *
 * The columns are JavaScript arrays in chunks of 64K orders (and lines),
 * not typed arrays that double. A typed array's memory lives outside the
 * JavaScript heap, and V8 starts a full collection whenever that external
 * memory has grown by 64 MB since the last one, however much room the heap
 * has: the doubling order columns allocated 340 MB over a million orders,
 * and each of the four full collections of a million-event replay was
 * started by "external memory pressure" (bench/README.md, "Full
 * collections"). The ledger's columns (LedgerColumns), the larger part,
 * stay typed arrays.
 */
class OrderColumns {
  private n = 0;
  private readonly ids: string[] = [];
  private readonly index = new IdIndex(this.ids);
  /** By order, in chunks: its member (index in `memberIds`), time, number
   * among the member's orders, E, P, points reversed, and its lines (the
   * first line's index, how many). */
  private members: number[][] = [];
  private at: number[][] = [];
  private seq: number[][] = [];
  private e: number[][] = [];
  private p: number[][] = [];
  private rev: number[][] = [];
  private first: number[][] = [];
  private nlines: number[][] = [];
  private nl = 0;
  /** By line, in chunks. Each line's sku as its index in `skus`: orders use
   * few distinct skus, and a column of small integers stays out of the
   * collected heap, where millions of string pointers would keep major
   * collections busy. */
  private sku: number[][] = [];
  private readonly skus = new Interner<string>();
  private qty: number[][] = [];
  private paid: number[][] = [];
  private eligible: number[][] = [];
  private refunded: number[][] = [];
  /** `memberIds`: the replay's member ids by index; `memberIndex` the other way. */
  constructor(
    private readonly memberIds: string[],
    private readonly memberIndex: (id: string) => number,
  ) {}

  get count(): number {
    return this.n;
  }

  idOf(i: number): string {
    return this.ids[i]!;
  }

  indexOf(id: string): number {
    return this.index.get(id);
  }

  has(id: string): boolean {
    return this.index.get(id) >= 0;
  }

  get(id: string): OrderRec | undefined {
    const i = this.index.get(id);
    if (i < 0) return undefined;
    const c = i >>> CHUNK_BITS;
    const o = i & LOW;
    const lines: OrderRec['lines'] = [];
    const from = this.first[c]![o]!;
    for (let j = from; j < from + this.nlines[c]![o]!; j++) {
      const lc = j >>> CHUNK_BITS;
      const lo = j & LOW;
      lines.push([this.skus.values[this.sku[lc]![lo]!]!, this.qty[lc]![lo]!, this.paid[lc]![lo]!, this.eligible[lc]![lo]!, this.refunded[lc]![lo]!]);
    }
    return { id, member: this.memberIds[this.members[c]![o]!]!, at: this.at[c]![o]!, seq: this.seq[c]![o]!, earned: this.e[c]![o]!, eligiblePaid: this.p[c]![o]!, reversed: this.rev[c]![o]!, lines };
  }

  /** Keeps a new order, straight from the engine's order sink. */
  add(id: string, member: number, at: number, seq: number, e: number, p: number, lines: readonly OrderLine[], paid: Float64Array, eligible: Uint8Array): void {
    this.newOrder(id, member, at, seq, e, p, 0, lines.length);
    for (let k = 0; k < lines.length; k++) this.newLine(this.skus.numberOf(lines[k]!.sku), lines[k]!.qty, paid[k]!, eligible[k]!, 0);
  }

  /** Order `id`'s columns (its lines follow, by newLine); its index. */
  private newOrder(id: string, member: number, at: number, seq: number, e: number, p: number, rev: number, nlines: number): number {
    const i = this.n++;
    const c = i >>> CHUNK_BITS;
    const o = i & LOW;
    if (o === 0) {
      this.members.push(intChunk());
      this.at.push(doubleChunk());
      this.seq.push(intChunk());
      this.e.push(intChunk());
      this.p.push(intChunk());
      this.rev.push(intChunk());
      this.first.push(intChunk());
      this.nlines.push(intChunk());
    }
    this.ids.push(id);
    this.index.add(id, i);
    this.members[c]![o] = member;
    this.at[c]![o] = at;
    this.seq[c]![o] = seq;
    this.e[c]![o] = e;
    this.p[c]![o] = p;
    this.rev[c]![o] = rev;
    this.first[c]![o] = this.nl;
    this.nlines[c]![o] = nlines;
    return i;
  }

  private newLine(sku: number, qty: number, paid: number, eligible: number, refunded: number): void {
    const j = this.nl++;
    const c = j >>> CHUNK_BITS;
    const o = j & LOW;
    if (o === 0) {
      this.sku.push(intChunk());
      this.qty.push(intChunk());
      this.paid.push(intChunk());
      this.eligible.push(intChunk());
      this.refunded.push(intChunk());
    }
    this.sku[c]![o] = sku;
    this.qty[c]![o] = qty;
    this.paid[c]![o] = paid;
    this.eligible[c]![o] = eligible;
    this.refunded[c]![o] = refunded;
  }

  /** Keeps a new order, or (`known`) what a refund changed in one. */
  put(o: OrderRec, isNew: boolean): void {
    const known = isNew ? -1 : this.index.get(o.id);
    if (known >= 0) {
      // A refund: what changes is the reversed points and refunded quantities.
      const c = known >>> CHUNK_BITS;
      this.rev[c]![known & LOW] = o.reversed;
      const from = this.first[c]![known & LOW]!;
      o.lines.forEach((l, k) => (this.refunded[(from + k) >>> CHUNK_BITS]![(from + k) & LOW] = l[4]));
      return;
    }
    this.newOrder(o.id, this.memberIndex(o.member), o.at, o.seq, o.earned, o.eligiblePaid, o.reversed, o.lines.length);
    for (const l of o.lines) this.newLine(this.skus.numberOf(l[0]), l[1], l[2], l[3], l[4]);
  }
}

interface MemberRec {
  id: string;
  idx: number;
  state: MemberState | null;
}

/** One line of an events file, decoded: its event, or why it is malformed. */
export type DecodedLine = { event: EngineEvent } | { error: string };

export class Replay {
  /** The program events are applied under (changed only by `adopt`). */
  private current: Program;
  get program(): Program {
    return this.current;
  }
  readonly members = new Map<string, MemberState>();
  readonly errors: ReplayError[] = [];
  private readonly ledger = new LedgerColumns();
  /** Member ids in signup order, and their indices. */
  private readonly ids: string[] = [];
  private readonly index = new IdIndex(this.ids);
  /** By member index: its id, index and state. */
  private readonly recs: MemberRec[] = [];
  /** Time of the last event that was neither malformed nor out of order. */
  clock = -Infinity;
  /** Well-formed events seen, and non-blank lines read. */
  events = 0;
  lines = 0;
  /** Accepted orders (for refunds and order-id uniqueness). */
  private readonly orders: OrderColumns;
  /** The order being applied (its entries' ref), and the index it will get. */
  private curOrderId: string | null = null;
  private curOrderIdx = -1;
  /** The last two members looked up (an event touches one member, an order
   * sometimes its referrer too). */
  private last: MemberRec | null = null;
  private prev: MemberRec | null = null;
  private readonly due = new DueTimes();
  private readonly world: World;
  private readonly opts: ReplayOptions;
  private lastAt = NaN;
  private lastAtText = '';
  private readonly ruleJson = new Map<string | null, string>();

  /** Applying with entries and orders as objects, and straight into the columns. */
  private asObjects!: ApplyOptions & { evaluation: Evaluation };
  private intoColumns!: ApplyOptions & { evaluation: Evaluation };

  constructor(program: Program, opts: ReplayOptions = {}) {
    this.current = program;
    this.orders = new OrderColumns(this.ids, (id) => this.indexOf(id));
    this.opts = opts;
    this.evaluateWith(program);
    this.world = {
      get: (id) => {
        // The last two members looked up first (no hash of the id).
        let r = this.last;
        if (r === null || r.id !== id) {
          r = this.prev;
          if (r === null || r.id !== id) {
            const k = this.index.get(id);
            if (k < 0) return undefined;
            r = this.recs[k]!;
          }
        }
        if (r !== this.last) {
          this.prev = this.last;
          this.last = r;
        }
        return r.state ?? undefined;
      },
      order: (id) => this.orders.get(id),
    };
  }

  private fast: FastLineParser | undefined;

  /** One line of an events file given as UTF-8 bytes [a, b) of `buf`: the
   * common shapes are decoded straight from the bytes (jsonl.ts), anything
   * else goes through pushLine. */
  pushBytes(buf: Buffer, a: number, b: number, line: number): void {
    let i = a;
    while (i < b && (buf[i] === 32 || buf[i] === 9 || buf[i] === 13)) i++;
    if (i === b) return; // blank
    this.fast ??= new FastLineParser(this.program.currencyExponent);
    const ev = this.fast.parse(buf, a, b);
    if (ev === null) return this.pushLine(buf.toString('utf8', a, b), line);
    this.lines++;
    this.pushEvent(ev, line);
  }

  /** One line of an events file (1-based number; blank lines are skipped). */
  pushLine(text: string, line: number): void {
    this.lines++;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      if (text.trim() === '') {
        this.lines--;
        return;
      }
      this.errors.push({ line, message: `not valid JSON: ${(e as Error).message}` });
      return;
    }
    this.pushValue(value, line);
  }

  /** A non-blank line decoded elsewhere (a diff decodes each line once for
   * two replays). */
  pushDecoded(d: DecodedLine, line: number): void {
    this.lines++;
    if ('error' in d) this.errors.push({ line, message: d.error });
    else this.pushEvent(d.event, line);
  }

  /**
   * Carries every member into `program`, as publishing a new version does
   * (carry.ts): later events apply under it. Its currency must be this one's,
   * since events already read were read in it.
   */
  adopt(program: Program): void {
    if (program.currency !== this.current.currency || program.currencyExponent !== this.current.currencyExponent)
      throw new Error(`cannot carry members from ${this.current.currency} into a program in ${program.currency}`);
    this.current = program;
    this.evaluateWith(program);
    for (const s of this.members.values()) {
      carryOver(program, s);
      this.settle(s);
    }
  }

  /** Every ledger entry in write order, with its member's id. */
  forEachEntry(fn: (member: string, kind: LedgerEntry['kind'], points: number, rule: string | null) => void): void {
    const L = this.ledger;
    for (let i = 0; i < L.size; i++) fn(this.ids[L.memberOf(i)]!, L.kindOf(i), L.pointsOf(i), L.ruleOf(i));
  }

  pushValue(value: unknown, line: number): void {
    const r = parseEvent(this.program, value);
    if (r.error !== undefined) {
      this.errors.push({ line, message: r.error });
      return;
    }
    this.pushEvent(r.event, line);
  }

  pushEvent(ev: EngineEvent, line: number): void {
    this.events++;
    if (ev.at < this.clock) {
      this.errors.push({ line, message: `event at ${formatInstant(ev.at)} is earlier than the last event not rejected (${formatInstant(this.clock)})` });
      return;
    }
    this.clock = ev.at;
    if (ev.type === 'tick') {
      this.tick(ev.at, line);
      return;
    }
    // A new order's entries refer to the index it is about to get; a
    // duplicate id is refused, and entries bringing its member forward
    // (a vesting of the first order with that id) refer to the first.
    if (ev.type === 'order' && !this.orders.has(ev.id)) {
      this.curOrderId = ev.id;
      this.curOrderIdx = this.orders.count;
    } else this.curOrderId = null;
    const out = this.apply(ev);
    if (ev.type === 'signup' && out.error === null) {
      const s = out.changed[0]!;
      this.members.set(ev.member, s);
      this.recs[this.indexOf(ev.member)]!.state = s;
    }
    if (out.order) this.orders.put(this.opts.serializeStates ? (JSON.parse(JSON.stringify(out.order)) as OrderRec) : out.order, ev.type === 'order');
    this.record(out.entries, line);
    if (out.error !== null) this.errors.push({ line, message: out.error });
    for (const s of out.changed) this.settle(s);
  }

  /** Members brought forward by the current tick, by index (reused). */
  private readonly again: number[] = [];

  private tick(t: number, line: number): void {
    const again = this.again;
    this.due.takeDue(t, again);
    for (let k = 0; k < again.length; k++) {
      const r = this.recs[again[k]!]!;
      // Its entries name it: the sink finds it without hashing the id.
      if (r !== this.last) {
        this.prev = this.last;
        this.last = r;
      }
      const s = r.state!;
      this.record(this.advanceMember(s, t), line);
      // Its new due time at once, while its state is in the cache (the
      // members due were taken out before: none is brought forward twice).
      this.settle(s);
    }
    again.length = 0;
  }

  /** After a member changed: keep its state (round-tripped if asked) and its due time. */
  private settle(s: MemberState): void {
    let state = s;
    if (this.opts.serializeStates) {
      state = JSON.parse(JSON.stringify(s)) as MemberState;
      this.members.set(state.id, state);
      this.recs[this.indexOf(state.id)]!.state = state;
    }
    const due = state.due;
    const i = this.indexOf(state.id);
    this.due.set(i, due);
  }

  /** A member's index. A new member (its signup bonus is written before
   * applyEvent returns) gets the next one. */
  private indexOf(id: string): number {
    const last = this.last;
    if (last !== null && last.id === id) return last.idx;
    const prev = this.prev;
    if (prev !== null && prev.id === id) return prev.idx;
    const k = this.index.get(id);
    let r: MemberRec;
    if (k >= 0) r = this.recs[k]!;
    else {
      r = { id, idx: this.ids.length, state: null };
      this.recs.push(r);
      this.ids.push(id);
      this.index.add(id, r.idx);
    }
    this.prev = this.last;
    this.last = r;
    return r.idx;
  }

  private record(entries: LedgerEntry[], line: number): void {
    for (const e of entries) {
      this.opts.onEntry?.(e, line);
      this.ledger.push(this.indexOf(e.member), e.at, e.kind, e.points, e.rule, this.refIndex(e.ref), e.line);
    }
  }

  /** Entries straight into the columns (when nobody asked for objects). */
  private readonly sink: EntrySink = (member, at, kind, points, rule, ref, line) => this.ledger.push(this.indexOf(member), at, kind, points, rule, this.refIndex(ref), line);

  // One Outcome refilled by every event applied into the columns.
  private readonly outcome: Outcome = { error: null, refusal: null, entries: [], changed: [], order: null };

  private readonly orderSink: OrderSink = (id, member, at, seq, e, p, lines, paid, eligible) => this.orders.add(id, this.indexOf(member), at, seq, e, p, lines, paid, eligible);

  /** An entry's ref (an order id) as the order's index in the columns. */
  private refIndex(ref: string | null): number {
    if (ref === null) return -1;
    if (ref === this.curOrderId) return this.curOrderIdx;
    // A vesting writes several entries of one earlier order in a row.
    if (ref === this.lastRef) return this.lastRefIdx;
    const i = this.orders.indexOf(ref);
    // An order's index never changes once it has one.
    if (i >= 0) {
      this.lastRef = ref;
      this.lastRefIdx = i;
    }
    return i;
  }

  /** The last earlier order an entry referred to, and its index. */
  private lastRef: string | null = null;
  private lastRefIdx = -1;

  private readonly orderId = (i: number): string => this.orders.idOf(i);

  private evaluateWith(program: Program): void {
    const orders = this.opts.orders ?? 'generated';
    this.asObjects = { evaluation: evaluation(program, { orders }) };
    this.intoColumns = { into: this.outcome, evaluation: evaluation(program, { orders, entrySink: this.sink, orderSink: this.orderSink }) };
  }

  private apply(ev: EngineEvent): Outcome {
    if (this.opts.onEntry || this.opts.serializeStates) return applyEvent(this.program, ev, this.world, this.asObjects);
    return applyEvent(this.program, ev, this.world, this.intoColumns);
  }

  private advanceMember(s: MemberState, t: number): LedgerEntry[] {
    return advance(this.program, s, t, this.opts.onEntry ? this.asObjects : this.intoColumns);
  }

  private readonly atText = (ms: number): string => {
    if (ms !== this.lastAt) {
      this.lastAt = ms;
      this.lastAtText = formatInstant(ms);
    }
    return this.lastAtText;
  };

  private entryJson(i: number): string {
    const L = this.ledger;
    const ruleName = L.ruleOf(i);
    let rule = this.ruleJson.get(ruleName);
    if (rule === undefined) this.ruleJson.set(ruleName, (rule = JSON.stringify(ruleName)));
    const ref = L.refOf(i);
    return `{"at":"${this.atText(L.atOf(i))}","kind":"${L.kindOf(i)}","points":${L.pointsOf(i)},"rule":${rule},"ref":${ref < 0 ? 'null' : this.refJson(ref)}}`;
  }

  /** An order's id as JSON; a member's entries of one order come together. */
  private refJson(ref: number): string {
    if (ref !== this.lastRefJsonIdx) {
      this.lastRefJsonIdx = ref;
      this.lastRefJson = JSON.stringify(this.orders.idOf(ref));
    }
    return this.lastRefJson;
  }
  private lastRefJsonIdx = -1;
  private lastRefJson = '';

  /** One member's ledger, with the program line that produced each entry. */
  ledgerOf(id: string): { entries: ResultEntry[]; lines: (number | null)[] } {
    const m = this.index.get(id);
    const entries: ResultEntry[] = [];
    const lines: (number | null)[] = [];
    if (m < 0) return { entries, lines };
    const L = this.ledger;
    for (let i = 0; i < L.size; i++)
      if (L.memberOf(i) === m) {
        entries.push(L.entry(i, this.atText, this.orderId));
        lines.push(L.lineOf(i));
      }
    return { entries, lines };
  }

  /** A member's result fields other than the ledger. */
  summary(s: MemberState): { balance: number; pending?: number; tier: string | null; clubs: string[] } {
    const clubs = this.clock === -Infinity ? [] : clubsAt(this.program, s, this.clock);
    if (this.program.pending === null) return { balance: s.balance, tier: s.tier, clubs };
    return { balance: s.balance, pending: pendingPoints(s), tier: s.tier, clubs };
  }

  result(): ReplayResult {
    const { start, order } = this.ledger.byMember(this.ids.length);
    const members: Record<string, MemberResult> = {};
    this.ids.forEach((id, m) => {
      const ledger: ResultEntry[] = [];
      for (let k = start[m]!; k < start[m + 1]!; k++) ledger.push(this.ledger.entry(order[k]!, this.atText, this.orderId));
      members[id] = { ...this.summary(this.members.get(id)!), ledger };
    });
    return { members, errors: this.errors };
  }

  /** The result as JSON text, in chunks (for large replays). */
  *resultJsonChunks(): Generator<string> {
    const { start, order } = this.ledger.byMember(this.ids.length);
    yield '{"members":{';
    let buf = '';
    for (let m = 0; m < this.ids.length; m++) {
      const id = this.ids[m]!;
      const sum = this.summary(this.members.get(id)!);
      buf += `${m === 0 ? '' : ','}\n${JSON.stringify(id)}:{"balance":${sum.balance},${sum.pending === undefined ? '' : `"pending":${sum.pending},`}"tier":${JSON.stringify(sum.tier)},"clubs":${JSON.stringify(sum.clubs)},"ledger":[`;
      for (let k = start[m]!; k < start[m + 1]!; k++) {
        buf += (k === start[m] ? '' : ',') + this.entryJson(order[k]!);
        if (buf.length > 1 << 20) {
          yield buf;
          buf = '';
        }
      }
      buf += ']}';
    }
    yield buf;
    yield `\n},"errors":[${this.errors.map((e) => `\n${JSON.stringify(e)}`).join(',')}\n]}\n`;
  }
}
