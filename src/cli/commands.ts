// The CLI commands. Each returns its exit status; main.ts wires them to
// commander. Output goes to the streams given, so tests can capture it.
import cliProgress from 'cli-progress';
import { compile, renderDiagnostic, type Diagnostic, type Program } from '../../dsl/index.ts';
import { format } from '../../dsl/format.ts';
import { compareResults, describeValue } from '../engine/compare.ts';
import { Replay, type ReplayResult } from '../engine/replay.ts';
import { NotificationStream, previewBody } from '../engine/notifications.ts';
import { parseEvent } from '../engine/events.ts';
import { formatInstant } from '../engine/time.ts';
import { colorsFor, isColor, type Colors } from './color.ts';
import { forEachLineBytes, writeChunks } from './lines.ts';
import { readText } from './read.ts';
import { writeFileSync, statSync } from 'node:fs';

export interface Io {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

export const defaultIo = (): Io => ({ stdout: process.stdout, stderr: process.stderr });

function today(): string {
  return new Date().toISOString().slice(0, 10);
}

function printDiagnostics(ds: Diagnostic[], source: string, io: Io, c: Colors): void {
  for (const d of ds) io.stderr.write(renderDiagnostic(d, source, { color: isColor(c) }) + '\n\n');
}

// --- check --------------------------------------------------------------------

export interface CheckOptions {
  json?: boolean;
  asOf?: string;
}

export function check(files: string[], opts: CheckOptions, io: Io = defaultIo()): number {
  const c = colorsFor(io.stderr);
  let status = 0;
  const all: Diagnostic[] = [];
  for (const file of files) {
    const r = readText(file);
    if ('error' in r) {
      io.stderr.write(`${c.red('error')} ${r.error}\n`);
      status = 2;
      continue;
    }
    const { diagnostics } = compile(r.text, file, { asOf: opts.asOf ?? today() });
    all.push(...diagnostics);
    if (diagnostics.some((d) => d.severity === 'error') && status === 0) status = 1;
    if (!opts.json) printDiagnostics(diagnostics, r.text, io, c);
  }
  if (opts.json) io.stdout.write(JSON.stringify(all, null, 2) + '\n');
  else if (all.length) {
    const errors = all.filter((d) => d.severity === 'error').length;
    const warnings = all.length - errors;
    io.stderr.write(`${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}\n`);
  }
  return status;
}

// --- fmt ----------------------------------------------------------------------

export interface FmtOptions {
  check?: boolean;
  write?: boolean;
}

export function fmt(files: string[], opts: FmtOptions, io: Io = defaultIo()): number {
  const c = colorsFor(io.stderr);
  let status = 0;
  for (const file of files) {
    const r = readText(file);
    if ('error' in r) {
      io.stderr.write(`${c.red('error')} ${r.error}\n`);
      status = 2;
      continue;
    }
    const f = format(r.text, file);
    if (f.text === undefined) {
      printDiagnostics(f.diagnostics, r.text, io, c);
      status = 2;
      continue;
    }
    const changed = f.text !== r.text;
    if (opts.check) {
      if (changed) {
        io.stdout.write(`${file}: not formatted\n`);
        if (status === 0) status = 1;
      }
    } else if (opts.write) {
      if (changed) {
        writeFileSync(file, f.text);
        io.stdout.write(`formatted ${file}\n`);
      }
    } else io.stdout.write(f.text);
  }
  return status;
}

// --- replay -------------------------------------------------------------------

/** Reads and compiles a program, or prints why it cannot (exit status 2). */
export function loadProgram(file: string, io: Io, c: Colors): Program | null {
  const src = readText(file);
  if ('error' in src) {
    io.stderr.write(`${c.red('error')} ${src.error}\n`);
    return null;
  }
  const compiled = compile(src.text, file);
  if (!compiled.program) {
    printDiagnostics(compiled.diagnostics.filter((d) => d.severity === 'error'), src.text, io, c);
    io.stderr.write(`${file} does not compile\n`);
    return null;
  }
  return compiled.program;
}

export interface ReplayCliOptions {
  json?: boolean;
  expect?: string;
  explain?: boolean;
  /** Show a progress bar (default: when stderr is a terminal and the file is large). */
  progress?: boolean;
  /** Print the notifications the stream produces instead of the result (docs/webhooks.md). */
  notifications?: boolean;
  /** With `notifications`: the reminders' lead time in days (an endpoint's `reminderDays`). */
  reminderDays?: number;
}

const PROGRESS_BYTES = 16 << 20;

/**
 * `replay --notifications`: one JSON object a line on stdout, each what a
 * webhook receiver would be sent (without the server's `id` and `created`),
 * derived by the server's own code. Lines that are not events, and events
 * the replay rejects as out of order, are reported on stderr and skipped.
 */
function printNotifications(program: Program, eventsFile: string, reminderDays: number, io: Io): number {
  const ce = colorsFor(io.stderr);
  if (!Number.isInteger(reminderDays) || reminderDays < 1 || reminderDays > 90) {
    io.stderr.write(`${ce.red('error')} --reminder-days: a whole number of days from 1 to 90\n`);
    return 2;
  }
  const stream = new NotificationStream(program, [reminderDays]);
  let clock = -Infinity;
  let out = '';
  const flush = () => {
    io.stdout.write(out);
    out = '';
  };
  try {
    forEachLineBytes(eventsFile, (buf, a, b, n) => {
      const text = buf.toString('utf8', a, b).trim();
      if (text === '') return;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        io.stderr.write(`${ce.yellow('skipped')} line ${n}: not valid JSON\n`);
        return;
      }
      const r = parseEvent(program, value);
      if (r.error !== undefined) {
        io.stderr.write(`${ce.yellow('skipped')} line ${n}: ${r.error}\n`);
        return;
      }
      if (r.event.at < clock) {
        io.stderr.write(`${ce.yellow('skipped')} line ${n}: event at ${formatInstant(r.event.at)} is earlier than the last event not rejected (${formatInstant(clock)})\n`);
        return;
      }
      clock = r.event.at;
      for (const note of stream.push(r.event)) out += JSON.stringify(previewBody(note)) + '\n';
      if (out.length > 1 << 16) flush();
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    io.stderr.write(`${ce.red('error')} cannot read ${eventsFile}: ${err.code === 'ENOENT' ? 'no such file' : err.message}\n`);
    return 2;
  }
  flush();
  return 0;
}

export async function replay(programFile: string, eventsFile: string, opts: ReplayCliOptions, io: Io = defaultIo()): Promise<number> {
  const ce = colorsFor(io.stderr);
  const co = colorsFor(io.stdout);
  const program = loadProgram(programFile, io, ce);
  if (!program) return 2;
  if (opts.notifications) return printNotifications(program, eventsFile, opts.reminderDays ?? 7, io);
  let expected: unknown;
  if (opts.expect) {
    const e = readText(opts.expect);
    if ('error' in e) {
      io.stderr.write(`${ce.red('error')} ${e.error}\n`);
      return 2;
    }
    try {
      expected = JSON.parse(e.text);
    } catch (err) {
      io.stderr.write(`${ce.red('error')} ${opts.expect} is not valid JSON: ${(err as Error).message}\n`);
      return 2;
    }
  }

  const r = new Replay(program);
  let bar: cliProgress.SingleBar | undefined;
  try {
    let size = 0;
    try {
      size = eventsFile === '-' ? 0 : statSync(eventsFile).size;
    } catch {
      /* reported by the reader */
    }
    const showBar = opts.progress ?? (io.stderr.isTTY === true && size > PROGRESS_BYTES);
    if (showBar) {
      bar = new cliProgress.SingleBar(
        { stream: io.stderr, format: 'replay |{bar}| {percentage}% | {value}/{total} MB | {events} events | ETA {eta}s', hideCursor: true, clearOnComplete: true },
        cliProgress.Presets.shades_classic,
      );
      bar.start(Math.max(1, Math.round(size / 1e6)), 0, { events: 0 });
    }
    forEachLineBytes(
      eventsFile,
      (buf, a, b, n) => r.pushBytes(buf, a, b, n),
      bar ? (read) => bar!.update(Math.round(read / 1e6), { events: r.events }) : undefined,
    );
  } catch (e) {
    bar?.stop();
    const err = e as NodeJS.ErrnoException;
    io.stderr.write(`${ce.red('error')} cannot read ${eventsFile}: ${err.code === 'ENOENT' ? 'no such file' : err.message}\n`);
    return 2;
  }
  bar?.stop();

  if (opts.json) await writeChunks(io.stdout, r.resultJsonChunks());
  let status = 0;
  if (opts.expect) {
    const result = r.result();
    const diffs = compareResults(expected, result);
    const out = opts.json ? io.stderr : io.stdout;
    const c = opts.json ? ce : co;
    if (diffs.length === 0) {
      out.write(`${c.green('ok')} ${eventsFile}: the result matches ${opts.expect} (${Object.keys(result.members).length} members, ${result.errors.length} errors)\n`);
    } else {
      status = 1;
      out.write(`${c.red('differs')} ${eventsFile}: ${diffs.length} difference${diffs.length === 1 ? '' : 's'} from ${opts.expect}\n`);
      const shown = diffs.slice(0, 40);
      for (const d of shown) {
        out.write(`  ${c.bold(d.path)}\n    expected ${c.green(describeValue(d.expected))}\n    actual   ${c.red(describeValue(d.actual))}\n`);
      }
      if (diffs.length > shown.length) out.write(`  … and ${diffs.length - shown.length} more\n`);
    }
  }
  if (!opts.json && !opts.expect) writeHuman(r, program, programFile, !!opts.explain, io.stdout, co);
  else if (opts.explain && !opts.json) writeHuman(r, program, programFile, true, io.stdout, co);
  return status;
}

function writeHuman(r: Replay, program: Program, programFile: string, explain: boolean, out: NodeJS.WriteStream, c: Colors): void {
  const result: ReplayResult = r.result();
  const ids = Object.keys(result.members);
  out.write(`${c.bold(program.name)} ${c.dim(`(${programFile}, version ${program.hash.slice(0, 12)})`)}\n`);
  out.write(`${r.lines} events, ${ids.length} members, ${result.errors.length} error${result.errors.length === 1 ? '' : 's'}\n\n`);
  const limit = explain ? Infinity : 50;
  const unit = program.unit;
  if (!explain) {
    // A `pending` column only for a program with pending points (like the JSON result).
    const pending = program.pending !== null;
    const rows = ids.slice(0, limit).map((id) => {
      const m = result.members[id]!;
      return [id, String(m.balance), ...(pending ? [String(m.pending ?? 0)] : []), m.tier ?? '—', m.clubs.join(', ') || '—', String(m.ledger.length)];
    });
    const head = ['member', `balance (${unit})`, ...(pending ? ['pending'] : []), 'tier', 'clubs', 'entries'];
    const numeric = new Set(pending ? [1, 2, 5] : [1, 4]);
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
    const line = (cells: string[]) => cells.map((x, i) => (numeric.has(i) ? x.padStart(widths[i]!) : x.padEnd(widths[i]!))).join('  ').trimEnd();
    out.write(c.bold(line(head)) + '\n');
    for (const row of rows) out.write(line(row) + '\n');
    if (ids.length > limit) out.write(c.dim(`… and ${ids.length - limit} more members (use --json for all)\n`));
  } else {
    // Every entry, with the program line that produced it underneath.
    for (const id of ids) {
      const m = result.members[id]!;
      out.write(`${c.bold(id)}  balance ${m.balance} ${unit}${m.pending === undefined ? '' : `  pending ${m.pending}`}  tier ${m.tier ?? '—'}  clubs ${m.clubs.join(', ') || '—'}\n`);
      const srcLines = r.ledgerOf(id).lines;
      m.ledger.forEach((e, i) => {
        const pts = (e.points > 0 ? '+' : '') + e.points;
        out.write(`  ${c.dim(e.at)}  ${e.kind.padEnd(7)} ${pts.padStart(7)}  ${e.rule ?? '—'}${e.ref ? c.dim(`  (${e.ref})`) : ''}\n`);
        const ln = srcLines[i];
        if (ln) out.write(`      ${c.cyan(`${programFile}:${ln}`)}  ${program.lines[ln]!.trim()}\n`);
        else if (e.kind === 'reverse') out.write(c.dim(`      refund of ${e.ref}: its earn entries, in proportion to the eligible amount refunded\n`));
        else if (e.kind === 'adjust') out.write(c.dim('      a correction by staff (an adjust event)\n'));
      });
      out.write('\n');
    }
  }
  if (result.errors.length) {
    out.write(`\n${c.bold('errors')}\n`);
    for (const e of result.errors) out.write(`  line ${String(e.line).padEnd(6)} ${c.red(e.message)}\n`);
  }
}
