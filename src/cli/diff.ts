// `loyalty diff OLD NEW EVENTS`: backtest a program change on an event
// history (diff.ts in the engine does the work; this prints it). A file's
// two sides are replayed in two worker threads (diff-side.ts), one a side,
// so they run on two cores; standard input, which only one reader can read,
// and runs from the TypeScript sources (no built worker) replay both sides
// in this thread, decoding each line once.
import { closeSync, existsSync, openSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { Program } from '../../dsl/index.ts';
import { formatCurrency } from '../engine/refusals.ts';
import { compareSides, parseFrom, ProgramDiff, redeemValue, type DiffOptions, type DiffResult, type SideResult, type SideTotals } from '../engine/diff.ts';
import type { DiffSideJob } from './diff-side.ts';
import { colorsFor, type Colors } from './color.ts';
import { defaultIo, loadProgram, type Io } from './commands.ts';
import { forEachLineBytes } from './lines.ts';

export interface DiffCliOptions {
  json?: boolean;
  /** A date (00:00 in the new program's timezone) or an instant. */
  from?: string;
}

/** Members listed in the terminal report (all of them with --json). */
const SHOWN = 20;

export async function diff(beforeFile: string, afterFile: string, eventsFile: string, opts: DiffCliOptions, io: Io = defaultIo()): Promise<number> {
  const ce = colorsFor(io.stderr);
  const before = loadProgram(beforeFile, io, ce);
  const after = loadProgram(afterFile, io, ce);
  if (!before || !after) return 2;
  if (before.currency !== after.currency || before.currencyExponent !== after.currencyExponent) {
    io.stderr.write(`${ce.red('error')} ${beforeFile} is in ${before.currency} and ${afterFile} in ${after.currency}: the same events cannot be read in both\n`);
    return 2;
  }
  let from: number | undefined;
  if (opts.from !== undefined) {
    const f = parseFrom(after, opts.from);
    if (!f.ok) {
      io.stderr.write(`${ce.red('error')} --from ${opts.from} ${f.error}\n`);
      return 2;
    }
    from = f.ms;
  }
  const diffOpts: DiffOptions = from === undefined ? {} : { from };
  let result: DiffResult;
  let events: number;
  try {
    if (eventsFile !== '-' && existsSync(SIDE_WORKER)) {
      closeSync(openSync(eventsFile, 'r')); // a missing file is said once, here, not by both workers
      const job = (side: DiffSideJob['side']): DiffSideJob => ({ side, before: { source: before.source, file: beforeFile }, after: { source: after.source, file: afterFile }, events: eventsFile, ...diffOpts });
      const [b, a] = await Promise.all([replaySide(job('before')), replaySide(job('after'))]);
      result = compareSides(b, a, before, after, diffOpts);
      events = b.lines;
    } else {
      const d = new ProgramDiff(before, after, diffOpts);
      forEachLineBytes(eventsFile, (buf, a, b, n) => d.pushBytes(buf, a, b, n));
      result = d.result();
      events = d.before.lines;
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    io.stderr.write(`${ce.red('error')} cannot read ${eventsFile}: ${err.code === 'ENOENT' ? 'no such file' : err.message}\n`);
    return 2;
  }
  if (opts.json) io.stdout.write(JSON.stringify(result, null, 2) + '\n');
  else writeReport(result, { before, after, beforeFile, afterFile, events }, io.stdout, colorsFor(io.stdout));
  return 0;
}

/** The built worker (bin/loyalty.mjs builds it beside this file's bundle). */
const SIDE_WORKER = new URL('./diff-side.mjs', import.meta.url);

/** One side replayed in a worker thread. */
function replaySide(job: DiffSideJob): Promise<SideResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(SIDE_WORKER, { workerData: job });
    let result: SideResult | undefined;
    worker.once('message', (r: SideResult) => (result = r));
    worker.once('error', reject);
    worker.once('exit', (code) => (result ? resolve(result) : reject(new Error(`the ${job.side} side's worker stopped (exit ${code})`))));
  });
}

interface ReportContext {
  before: Program;
  after: Program;
  beforeFile: string;
  afterFile: string;
  events: number;
}

/** Columns: names left-aligned, figures right-aligned (`left`: the columns of names). */
function table(head: string[], rows: string[][], c: Colors, left: readonly number[] = [0]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((x, i) => (left.includes(i) ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join('  ').trimEnd();
  return [c.bold(line(head)), ...rows.map(line)].join('\n') + '\n';
}

const signed = (n: number): string => (n > 0 ? `+${n}` : String(n));
const tierName = (t: string | null): string => t ?? '—';

function writeReport(r: DiffResult, ctx: ReportContext, out: NodeJS.WritableStream, c: Colors): void {
  const { before: b, after: a } = r.totals;
  const unit = ctx.after.unit;
  out.write(`${c.bold(b.program)} ${c.dim(`(${ctx.beforeFile}, version ${b.version.slice(0, 12)})`)}\n`);
  out.write(`→ ${c.bold(a.program)} ${c.dim(`(${ctx.afterFile}, version ${a.version.slice(0, 12)})`)}\n`);
  out.write(`${ctx.events} events, ${b.members} members; the new program applies ${r.from === null ? 'from the start' : `from ${r.from}`}\n\n`);

  const row = (name: string, pick: (t: SideTotals) => number): string[] => [name, String(pick(b)), String(pick(a)), signed(pick(a) - pick(b))];
  const rows = [
    row(`earned (${unit})`, (t) => t.earned),
    row('redeemed', (t) => t.redeemed),
    row('expired', (t) => t.expired),
    row('reversed', (t) => t.reversed),
    row('adjusted', (t) => t.adjusted),
    row('outstanding', (t) => t.outstanding),
  ];
  const valueBefore = redeemValue(ctx.before, b.outstanding);
  const valueAfter = redeemValue(ctx.after, a.outstanding);
  if (valueBefore !== null || valueAfter !== null) {
    const delta = valueBefore !== null && valueAfter !== null ? formatCurrency(ctx.after, valueAfter - valueBefore) : '—';
    rows.push(['outstanding value', b.outstandingValue ?? '—', a.outstandingValue ?? '—', delta.startsWith('-') || delta === '—' ? delta : `+${delta}`]);
  }
  rows.push(row('errors', (t) => t.errors));
  out.write(table(['totals', 'before', 'after', 'delta'], rows, c));
  const ch = r.totals.changed;
  out.write(`${ch.members} member${ch.members === 1 ? '' : 's'} change${ch.members === 1 ? 's' : ''} (balance ${ch.balance}, tier ${ch.tier}, clubs ${ch.clubs})\n\n`);

  // Tier movements: rows the tier before, columns the tier after.
  const fromTiers = b.tiers.map((t) => t.tier);
  const toTiers = a.tiers.map((t) => t.tier);
  const cell = (from: string | null, to: string | null) => String(r.tierMatrix.find((m) => m.from === from && m.to === to)?.members ?? 0);
  out.write(
    table(
      ['tier before \\ after', ...toTiers.map(tierName)],
      fromTiers.map((f) => [tierName(f), ...toTiers.map((t) => cell(f, t))]),
      c,
    ),
  );
  out.write('\n');

  const rules = [...new Set([...Object.keys(b.earnedByRule), ...Object.keys(a.earnedByRule)])];
  const ruleRows = rules.map((name) => {
    const x = b.earnedByRule[name] ?? 0;
    const y = a.earnedByRule[name] ?? 0;
    return [name, String(x), String(y), signed(y - x)];
  });
  out.write(table([`earned by rule (${unit})`, 'before', 'after', 'delta'], ruleRows, c));
  out.write('\n');

  if (r.members.length === 0) {
    out.write('no member ends differently\n');
    return;
  }
  const shown = r.members.slice(0, SHOWN);
  out.write(c.bold(`members that change most (${shown.length} of ${r.members.length})\n`));
  const memberRows = shown.map((m) => [
    m.id,
    String(m.before.balance),
    String(m.after.balance),
    signed(m.after.balance - m.before.balance),
    m.before.tier === m.after.tier ? tierName(m.after.tier) : `${tierName(m.before.tier)} → ${tierName(m.after.tier)}`,
    m.before.clubs.join(', ') === m.after.clubs.join(', ') ? m.after.clubs.join(', ') || '—' : `${m.before.clubs.join(', ') || '—'} → ${m.after.clubs.join(', ') || '—'}`,
  ]);
  out.write(table(['member', `balance before`, 'after', 'delta', 'tier', 'clubs'], memberRows, c, [0, 4, 5]));
  if (r.members.length > shown.length) out.write(c.dim(`… and ${r.members.length - shown.length} more (use --json for all)\n`));
}
