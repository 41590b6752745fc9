// Replay (replay.md): the engine with no database. Events come in one line at
// a time; members live in memory; a `tick` touches only the members that
// something falls due for (a min-heap of due times).
import type { Program } from '../../dsl/program.ts';
import { applyEvent, clubsAt, nextDue, advance } from './engine.ts';
import { parseEvent } from './events.ts';
import { formatInstant } from './time.ts';
import type { EngineEvent, LedgerEntry, MemberState, World } from './types.ts';

export interface ResultEntry {
  at: string;
  kind: LedgerEntry['kind'];
  points: number;
  rule: string | null;
  ref: string | null;
}

export interface MemberResult {
  balance: number;
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
  /** Keep each member's ledger as JSON text instead of objects (less memory
   * for large replays; used by `--json`). */
  compactLedger?: boolean;
  /** Called for every ledger entry written, with the event's line number. */
  onEntry?: (e: LedgerEntry, line: number) => void;
  /** Keep, for every ledger entry, the program line that produced it. */
  explain?: boolean;
}

/** Binary min-heap of [due, member id]. */
class DueHeap {
  private due: number[] = [];
  private ids: string[] = [];
  get size(): number {
    return this.due.length;
  }
  peek(): number {
    return this.due[0]!;
  }
  push(due: number, id: string): void {
    let i = this.due.length;
    this.due.push(due);
    this.ids.push(id);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.due[p]! <= due) break;
      this.due[i] = this.due[p]!;
      this.ids[i] = this.ids[p]!;
      i = p;
    }
    this.due[i] = due;
    this.ids[i] = id;
  }
  pop(): [number, string] {
    const top: [number, string] = [this.due[0]!, this.ids[0]!];
    const d = this.due.pop()!;
    const id = this.ids.pop()!;
    const n = this.due.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && this.due[r]! < this.due[l]! ? r : l;
        if (this.due[c]! >= d) break;
        this.due[i] = this.due[c]!;
        this.ids[i] = this.ids[c]!;
        i = c;
      }
      this.due[i] = d;
      this.ids[i] = id;
    }
    return top;
  }
}

export class Replay {
  readonly program: Program;
  readonly members = new Map<string, MemberState>();
  readonly ledgers = new Map<string, (ResultEntry | string)[]>();
  readonly errors: ReplayError[] = [];
  /** With `explain`: per member, the program line of each ledger entry. */
  readonly sourceLines = new Map<string, (number | null)[]>();
  /** Time of the last event that was neither malformed nor out of order. */
  clock = -Infinity;
  /** Well-formed events seen, and non-blank lines read. */
  events = 0;
  lines = 0;
  private readonly orderIds = new Set<string>();
  private readonly dueOf = new Map<string, number>();
  private readonly heap = new DueHeap();
  private readonly world: World;
  private readonly opts: ReplayOptions;
  private lastAt = NaN;
  private lastAtText = '';
  private readonly ruleJson = new Map<string | null, string>();

  constructor(program: Program, opts: ReplayOptions = {}) {
    this.program = program;
    this.opts = opts;
    this.world = { get: (id) => this.members.get(id), orderIdTaken: (id) => this.orderIds.has(id) };
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
    const out = applyEvent(this.program, ev, this.world);
    if (ev.type === 'signup' && out.error === null) {
      this.members.set(ev.member, out.changed[0]!);
      this.ledgers.set(ev.member, []);
      if (this.opts.explain) this.sourceLines.set(ev.member, []);
    }
    if (ev.type === 'order' && out.error === null) this.orderIds.add(ev.id);
    this.record(out.entries, line);
    if (out.error !== null) this.errors.push({ line, message: out.error });
    for (const s of out.changed) this.settle(s);
  }

  private tick(t: number, line: number): void {
    const again: string[] = [];
    while (this.heap.size && this.heap.peek() <= t) {
      const [due, id] = this.heap.pop();
      if (this.dueOf.get(id) !== due) continue; // superseded
      const s = this.members.get(id)!;
      this.dueOf.delete(id);
      this.record(advance(this.program, s, t), line);
      again.push(id);
    }
    for (const id of again) this.settle(this.members.get(id)!);
  }

  /** After a member changed: keep its state (round-tripped if asked) and its due time. */
  private settle(s: MemberState): void {
    let state = s;
    if (this.opts.serializeStates) {
      state = JSON.parse(JSON.stringify(s)) as MemberState;
      this.members.set(state.id, state);
    }
    const due = nextDue(this.program, state);
    if (due === null) {
      this.dueOf.delete(state.id);
    } else if (this.dueOf.get(state.id) !== due) {
      this.dueOf.set(state.id, due);
      this.heap.push(due, state.id);
    }
  }

  private record(entries: LedgerEntry[], line: number): void {
    for (const e of entries) {
      this.opts.onEntry?.(e, line);
      if (this.opts.explain) this.sourceLines.get(e.member)!.push(e.line);
      const ledger = this.ledgers.get(e.member)!;
      if (this.opts.compactLedger) ledger.push(this.entryJson(e));
      else ledger.push({ at: this.atText(e.at), kind: e.kind, points: e.points, rule: e.rule, ref: e.ref });
    }
  }

  private atText(ms: number): string {
    if (ms !== this.lastAt) {
      this.lastAt = ms;
      this.lastAtText = formatInstant(ms);
    }
    return this.lastAtText;
  }

  private entryJson(e: LedgerEntry): string {
    let rule = this.ruleJson.get(e.rule);
    if (rule === undefined) this.ruleJson.set(e.rule, (rule = JSON.stringify(e.rule)));
    return `{"at":"${this.atText(e.at)}","kind":"${e.kind}","points":${e.points},"rule":${rule},"ref":${e.ref === null ? 'null' : JSON.stringify(e.ref)}}`;
  }

  /** A member's result fields other than the ledger. */
  summary(s: MemberState): { balance: number; tier: string | null; clubs: string[] } {
    return { balance: s.balance, tier: s.tier, clubs: this.clock === -Infinity ? [] : clubsAt(this.program, s, this.clock) };
  }

  result(): ReplayResult {
    const members: Record<string, MemberResult> = {};
    for (const [id, s] of this.members) {
      const ledger = this.ledgers.get(id)!.map((e) => (typeof e === 'string' ? (JSON.parse(e) as ResultEntry) : e));
      members[id] = { ...this.summary(s), ledger };
    }
    return { members, errors: this.errors };
  }

  /** The result as JSON text, in chunks (for large replays). */
  *resultJsonChunks(): Generator<string> {
    yield '{"members":{';
    let first = true;
    let buf = '';
    for (const [id, s] of this.members) {
      const sum = this.summary(s);
      const ledger = this.ledgers.get(id)!;
      const entries = this.opts.compactLedger ? (ledger as string[]).join(',') : ledger.map((e) => JSON.stringify(e)).join(',');
      buf += `${first ? '' : ','}\n${JSON.stringify(id)}:{"balance":${sum.balance},"tier":${JSON.stringify(sum.tier)},"clubs":${JSON.stringify(sum.clubs)},"ledger":[${entries}]}`;
      first = false;
      if (buf.length > 1 << 20) {
        yield buf;
        buf = '';
      }
    }
    yield buf;
    yield `\n},"errors":[${this.errors.map((e) => `\n${JSON.stringify(e)}`).join(',')}\n]}\n`;
  }
}
