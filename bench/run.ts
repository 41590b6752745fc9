// `npm run bench`: the replay benchmark.
//
//   npm run bench                              # 200,000 events (about a minute)
//   npm run bench -- --events 1000000          # the full size of the issue
//   npm run bench -- --events 1000000 --repeat 1 --check
//
// Generates (or reuses, keyed by its parameters) a coffee-chain stream under
// bench/.data/, then measures, each kind in a fresh Node process:
//   - the hand-written evaluator, events parsed up front (events/s),
//   - the hand-written replay end to end: `node --import tsx bench/handwritten.ts FILE > /dev/null`,
//   - json-rules-engine on the earning rules (orders/s),
//   - the engine, events parsed up front (`parseEvent`), then `Replay.pushEvent` in memory (events/s),
//   - `node bin/loyalty.mjs replay examples/coffee-chain.loyalty FILE --json > /dev/null`,
//   - `loyalty diff` of the program and a draft (DRAFT_CHANGES) over FILE,
//     alternating with `loyalty replay --json` so both see the same load,
// and prints a table with best and median of `--repeat` runs and the ratios
// against the goals: engine evaluation ≥ ½ of the hand-written rate, engine
// end-to-end ≤ 2 × the hand-written time, diff ≤ 1.5 × replay --json.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command, Option } from 'commander';
import { DEFAULT_OPTIONS, GENERATOR_VERSION, generateToFile } from './generate.ts';

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH, '..');
const DATA = join(BENCH, '.data');
/** The benchmark program: the coffee chain with pending, tier discounts, a reward and a challenge
 * (bench/handwritten.ts with `v2`, streams with redeem_reward lines); `--v1` measures the
 * coffee chain as it was (examples/coffee-chain.loyalty, no redeem_reward lines). */
const PROGRAM_V2 = join(BENCH, 'coffee-chain-v2.loyalty');
const PROGRAM_V1 = join(ROOT, 'examples', 'coffee-chain.loyalty');
const ENGINE = join(ROOT, 'src', 'engine', 'index.ts');
const DSL = join(ROOT, 'dsl', 'index.ts');
const CLI = join(ROOT, 'bin', 'loyalty.mjs');

/** The reference figures for the hand-written version on this 2-core machine (1M events). */
const REFERENCE = { hwEventsPerSec: 500_000, hwEndToEndSecPerMillion: 7, jreOrdersPerSec: 13_000 };
/** The goals: engine evaluation at least half the hand-written rate; end to end at most twice its time;
 * `loyalty diff` of two programs at most 1.5 × `loyalty replay --json` of one. */
const GOAL = { evalRatio: 0.5, e2eRatio: 2, diffRatio: 1.5 };

/** The draft `diff-e2e` compares with the coffee-chain program: a higher base
 * rate and a lower Silver threshold, so most members end differently. */
const DRAFT_CHANGES: [string, string][] = [
  ['base 10 points per 1 USD', 'base 12 points per 1 USD'],
  ['tier Silver at 250 USD', 'tier Silver at 200 USD'],
];

function writeDraft(program: string): string {
  let text = readFileSync(program, 'utf8');
  for (const [from, to] of DRAFT_CHANGES) {
    if (!text.includes(from)) throw new Error(`${relative(ROOT, program)} no longer has ${JSON.stringify(from)}: update DRAFT_CHANGES in bench/run.ts`);
    text = text.replace(from, to);
  }
  mkdirSync(DATA, { recursive: true });
  const path = join(DATA, `draft-${program.endsWith('v2.loyalty') ? 'v2' : 'v1'}.loyalty`);
  writeFileSync(path, text);
  return path;
}

interface DslModule {
  compile(source: string, file: string): { program?: unknown };
}
interface EngineModule {
  parseEvent(program: unknown, value: unknown): { event?: unknown; error?: string };
  Replay: new (program: unknown) => { pushEvent(ev: unknown, line: number): void };
}

/** Ledger entries the engine's Replay holds, if its shape is one we know (for the notes only). */
function countEntries(replay: object): number {
  const r = replay as { ledger?: { size?: number }; ledgers?: Map<string, unknown[]> };
  if (typeof r.ledger?.size === 'number') return r.ledger.size;
  let n = 0;
  if (r.ledgers instanceof Map) for (const l of r.ledgers.values()) n += l.length;
  return n;
}

interface WorkerReport {
  kind: string;
  /** Items per run (events or orders). */
  items: number;
  parseMs: number;
  runsMs: number[];
  note?: string;
}

// ---------------------------------------------------------------- workers (child processes)

async function worker(kind: string, file: string, repeat: number, jreOrders: number, v2: boolean): Promise<void> {
  const PROGRAM = v2 ? PROGRAM_V2 : PROGRAM_V1;
  const report = (r: WorkerReport) => process.stdout.write('BENCH-REPORT ' + JSON.stringify(r) + '\n');
  const text = readFileSync(file, 'utf8');
  if (kind === 'hw-eval' || kind === 'jre') {
    const hw = await import('./handwritten.ts');
    let t0 = process.hrtime.bigint();
    const stream = hw.parseStream(text);
    const parseMs = ms(t0);
    if (kind === 'hw-eval') {
      const runsMs: number[] = [];
      let entries = 0;
      for (let i = 0; i < repeat; i++) {
        collect();
        t0 = process.hrtime.bigint();
        const r = hw.evaluate(stream, { v2 });
        runsMs.push(ms(t0));
        entries = r.entryCount;
      }
      report({ kind, items: stream.events.length, parseMs, runsMs, note: `${entries} ledger entries` });
    } else {
      const jre = await import('./jre.ts');
      const orders = jre.ordersOf(stream.events, jreOrders);
      const runsMs: number[] = [];
      for (let i = 0; i < repeat; i++) {
        const r = await jre.runJre(orders);
        runsMs.push(Number(r.ns) / 1e6);
      }
      report({ kind, items: orders.length, parseMs, runsMs });
    }
    return;
  }
  if (kind === 'engine-eval') {
    // Typed loosely on purpose: the benchmark must not depend on the engine at compile time.
    const dsl = (await import(pathToFileURL(DSL).href)) as DslModule;
    const engine = (await import(pathToFileURL(ENGINE).href)) as EngineModule;
    const compiled = dsl.compile(readFileSync(PROGRAM, 'utf8'), PROGRAM);
    if (!compiled.program) throw new Error(`${relative(ROOT, PROGRAM)} does not compile`);
    const program = compiled.program;
    let t0 = process.hrtime.bigint();
    const events: unknown[] = [];
    const lines: number[] = [];
    let line = 0;
    for (let from = 0; from < text.length; ) {
      let to = text.indexOf('\n', from);
      if (to < 0) to = text.length;
      line++;
      const s = text.slice(from, to);
      from = to + 1;
      if (s.trim() === '') continue;
      const r = engine.parseEvent(program, JSON.parse(s));
      if (r.event) {
        events.push(r.event);
        lines.push(line);
      }
    }
    const parseMs = ms(t0);
    const runsMs: number[] = [];
    let entries = 0;
    for (let i = 0; i < repeat; i++) {
      collect();
      t0 = process.hrtime.bigint();
      const replay = new engine.Replay(program);
      for (let k = 0; k < events.length; k++) replay.pushEvent(events[k], lines[k]!);
      runsMs.push(ms(t0));
      entries = countEntries(replay);
    }
    report({ kind, items: events.length, parseMs, runsMs, note: `${entries} ledger entries` });
    return;
  }
  throw new Error(`unknown worker ${kind}`);
}

/** A full collection before each timed run, so one run's garbage is not collected on the next one's time. */
function collect(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function ms(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** Runs a worker in a fresh process (no heap or JIT state shared between measurements). */
function runWorker(kind: string, file: string, repeat: number, jreOrders: number, v2: boolean): Promise<WorkerReport> {
  return new Promise((res, rej) => {
    const child = spawn(
      process.execPath,
      ['--max-old-space-size=8192', '--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--worker', kind, '--file', file, '--repeat', String(repeat), '--jre-orders', String(jreOrders), ...(v2 ? [] : ['--v1'])],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (out += d));
    child.on('error', rej);
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('BENCH-REPORT '));
      if (code !== 0 || !line) rej(new Error(`worker ${kind} failed (exit ${code})\n${out}`));
      else res(JSON.parse(line.slice('BENCH-REPORT '.length)) as WorkerReport);
    });
  });
}

/** Wall time of a command with stdout to /dev/null, `repeat` times. */
function timeCommand(args: string[], repeat: number, label: string): number[] {
  const runs: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const devnull = openSync('/dev/null', 'w');
    const t0 = process.hrtime.bigint();
    const r = spawnSync(args[0]!, args.slice(1), { cwd: ROOT, stdio: ['ignore', devnull, 'pipe'], maxBuffer: 64 << 20 });
    const t = ms(t0);
    closeSync(devnull);
    if (r.status !== 0) throw new Error(`${label} failed (exit ${r.status}): ${r.stderr?.toString().slice(0, 2000)}`);
    runs.push(t);
    progress(`  ${label}: run ${i + 1}/${repeat} ${(t / 1000).toFixed(2)} s`);
  }
  return runs;
}

// ---------------------------------------------------------------- reporting

function best(xs: number[]): number {
  return Math.min(...xs);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function fmtSec(msv: number): string {
  return (msv / 1000).toFixed(2) + ' s';
}

function progress(s: string): void {
  process.stderr.write(s + '\n');
}

interface Row {
  what: string;
  best: string;
  median: string;
  note: string;
}

function table(rows: Row[]): string {
  const head: Row = { what: 'measurement', best: 'best', median: 'median', note: 'notes' };
  const all = [head, ...rows];
  const w = (k: keyof Row) => Math.max(...all.map((r) => r[k].length));
  const ww = w('what');
  const wb = w('best');
  const wm = w('median');
  const line = (r: Row) => `${r.what.padEnd(ww)}  ${r.best.padStart(wb)}  ${r.median.padStart(wm)}  ${r.note}`.trimEnd();
  return [line(head), '-'.repeat(ww + wb + wm + 6 + 20), ...rows.map(line)].join('\n');
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const cmd = new Command()
    .name('npm run bench --')
    .description('Replay benchmark: hand-written closures, json-rules-engine and the engine on a generated coffee-chain stream.')
    .option('--events <n>', 'events in the generated stream', (v) => parseInt(v.replace(/_/g, ''), 10), 200_000)
    .option('--members <n>', 'members (default: 20,000 per million events)', (v) => parseInt(v.replace(/_/g, ''), 10))
    .option('--seed <n>', 'generator seed', (v) => parseInt(v, 10), DEFAULT_OPTIONS.seed)
    .option('--file <path>', 'use this JSONL file instead of generating one')
    .option('--repeat <n>', 'runs of each measurement (best and median are reported)', (v) => parseInt(v, 10), 3)
    .option('--jre-orders <n>', 'orders given to json-rules-engine (it is slow; the rate is steady)', (v) => parseInt(v.replace(/_/g, ''), 10), 20_000)
    .option('--only <list>', 'comma-separated subset of: hw-eval,hw-e2e,jre,engine-eval,engine-e2e,diff-e2e')
    .option('--v1', 'the program before language v2 (examples/coffee-chain.loyalty, no redeem_reward lines) instead of bench/coffee-chain-v2.loyalty')
    .option('--check', 'also compare the engine --json result with the hand-written one (bench/compare.ts)')
    .addOption(new Option('--worker <kind>').hideHelp())
    .parse(process.argv);
  const o = cmd.opts<{
    events: number;
    members?: number;
    seed: number;
    file?: string;
    repeat: number;
    jreOrders: number;
    only?: string;
    check?: boolean;
    v1?: boolean;
    worker?: string;
  }>();

  if (o.worker) {
    await worker(o.worker, o.file!, o.repeat, o.jreOrders, !o.v1);
    return;
  }

  const v2 = !o.v1;
  const PROGRAM = v2 ? PROGRAM_V2 : PROGRAM_V1;
  progress(`program ${relative(ROOT, PROGRAM)}`);
  const only = new Set((o.only ?? 'hw-eval,hw-e2e,jre,engine-eval,engine-e2e,diff-e2e').split(',').map((s) => s.trim()));
  const members = o.members ?? Math.max(50, Math.round((20_000 * o.events) / 1_000_000));
  let file: string;
  if (o.file) file = resolve(o.file);
  else {
    const name = `coffee${v2 ? '-v2' : ''}-e${o.events}-m${members}-s${o.seed}-g${GENERATOR_VERSION}.jsonl`;
    file = join(DATA, name);
    if (!existsSync(file)) {
      progress(`generating ${relative(ROOT, file)} ...`);
      const tmp = file + '.tmp';
      const t0 = process.hrtime.bigint();
      generateToFile(tmp, { events: o.events, members, seed: o.seed, rewards: v2 });
      renameSync(tmp, file);
      progress(`  done in ${fmtSec(ms(t0))}`);
    } else progress(`reusing ${relative(ROOT, file)}`);
  }
  const bytes = statSync(file).size;
  const nodeTsx = [process.execPath, '--import', 'tsx'];
  const engineThere = existsSync(ENGINE) && existsSync(DSL);
  const cliThere = existsSync(CLI);
  const rows: Row[] = [];
  const results: Record<string, { best: number; median: number; items?: number }> = {};

  const rate = (r: WorkerReport) => r.runsMs.map((t) => (r.items / t) * 1000);

  if (only.has('hw-eval')) {
    progress('hand-written evaluation (events parsed up front) ...');
    const r = await runWorker('hw-eval', file, o.repeat, o.jreOrders, v2);
    const rs = rate(r);
    results.hwEval = { best: Math.max(...rs), median: median(rs), items: r.items };
    rows.push({
      what: 'hand-written evaluation',
      best: `${fmtInt(Math.max(...rs))} ev/s`,
      median: `${fmtInt(median(rs))} ev/s`,
      note: `${fmtInt(r.items)} events; parse up front ${fmtSec(r.parseMs)}; ${r.note ?? ''}; issue: ~${fmtInt(REFERENCE.hwEventsPerSec)} ev/s`,
    });
  }
  if (only.has('hw-e2e')) {
    progress('hand-written end to end ...');
    const runs = timeCommand([...nodeTsx, join(BENCH, 'handwritten.ts'), ...(v2 ? ['--v2'] : []), file], o.repeat, 'handwritten.ts');
    results.hwE2e = { best: best(runs), median: median(runs) };
    const scaledRef = (REFERENCE.hwEndToEndSecPerMillion * lineCountEstimate(file, o)) / 1_000_000;
    rows.push({
      what: 'hand-written replay, end to end',
      best: fmtSec(best(runs)),
      median: fmtSec(median(runs)),
      note: `node --import tsx bench/handwritten.ts FILE > /dev/null; issue: ~${scaledRef.toFixed(1)} s for this size`,
    });
  }
  if (only.has('jre')) {
    progress('json-rules-engine (earning rules only) ...');
    const r = await runWorker('jre', file, o.repeat, o.jreOrders, v2);
    const rs = rate(r);
    results.jre = { best: Math.max(...rs), median: median(rs), items: r.items };
    rows.push({
      what: 'json-rules-engine, earning rules',
      best: `${fmtInt(Math.max(...rs))} orders/s`,
      median: `${fmtInt(median(rs))} orders/s`,
      note: `first ${fmtInt(r.items)} orders; issue: ~${fmtInt(REFERENCE.jreOrdersPerSec)} orders/s`,
    });
  }
  if (only.has('engine-eval')) {
    if (!engineThere) rows.push({ what: 'engine evaluation', best: '-', median: '-', note: 'engine not available yet' });
    else {
      progress('engine evaluation (parseEvent up front, Replay.pushEvent in memory) ...');
      try {
        const r = await runWorker('engine-eval', file, o.repeat, o.jreOrders, v2);
        const rs = rate(r);
        results.engineEval = { best: Math.max(...rs), median: median(rs), items: r.items };
        let note = `parse up front ${fmtSec(r.parseMs)}; ${r.note ?? ''}`;
        if (results.hwEval) {
          const ratio = results.engineEval.best / results.hwEval.best;
          note += `; ${ratio.toFixed(2)} × hand-written (goal ≥ ${GOAL.evalRatio}) ${ratio >= GOAL.evalRatio ? 'MET' : 'NOT MET'}`;
        }
        note += `; ${(results.engineEval.best / REFERENCE.hwEventsPerSec).toFixed(2)} × the issue's ${fmtInt(REFERENCE.hwEventsPerSec)} ev/s`;
        rows.push({ what: 'engine evaluation', best: `${fmtInt(Math.max(...rs))} ev/s`, median: `${fmtInt(median(rs))} ev/s`, note });
      } catch (e) {
        rows.push({ what: 'engine evaluation', best: '-', median: '-', note: `failed: ${(e as Error).message.split('\n')[0]}` });
      }
    }
  }
  if (only.has('engine-e2e')) {
    if (!engineThere || !cliThere) rows.push({ what: 'engine replay --json, end to end', best: '-', median: '-', note: 'engine not available yet' });
    else {
      progress('engine end to end (loyalty replay --json) ...');
      try {
        const runs = timeCommand([process.execPath, CLI, 'replay', PROGRAM, file, '--json'], o.repeat, 'loyalty replay --json');
        results.engineE2e = { best: best(runs), median: median(runs) };
        let note = `node bin/loyalty.mjs replay ${relative(ROOT, PROGRAM)} FILE --json > /dev/null`;
        if (results.hwE2e) {
          const ratio = results.engineE2e.best / results.hwE2e.best;
          note += `; ${ratio.toFixed(2)} × hand-written (goal ≤ ${GOAL.e2eRatio}) ${ratio <= GOAL.e2eRatio ? 'MET' : 'NOT MET'}`;
        }
        const ref = (REFERENCE.hwEndToEndSecPerMillion * 1000 * lineCountEstimate(file, o)) / 1_000_000;
        note += `; ${(results.engineE2e.best / ref).toFixed(2)} × the issue's ~${(ref / 1000).toFixed(1)} s`;
        rows.push({ what: 'engine replay --json, end to end', best: fmtSec(best(runs)), median: fmtSec(median(runs)), note });
      } catch (e) {
        rows.push({ what: 'engine replay --json, end to end', best: '-', median: '-', note: `failed: ${(e as Error).message.split('\n')[0]}` });
      }
    }
  }

  if (only.has('diff-e2e')) {
    if (!engineThere || !cliThere) rows.push({ what: 'loyalty diff / replay --json', best: '-', median: '-', note: 'engine not available yet' });
    else {
      progress('loyalty diff against loyalty replay --json (alternating, so both see the same load) ...');
      const draft = writeDraft(PROGRAM);
      const replays: number[] = [];
      const diffs: number[] = [];
      for (let i = 0; i < o.repeat; i++) {
        replays.push(...timeCommand([process.execPath, CLI, 'replay', PROGRAM, file, '--json'], 1, `loyalty replay --json (${i + 1}/${o.repeat})`));
        diffs.push(...timeCommand([process.execPath, CLI, 'diff', PROGRAM, draft, file, '--json'], 1, `loyalty diff --json (${i + 1}/${o.repeat})`));
      }
      const pairs = diffs.map((d, i) => d / replays[i]!);
      const ratio = best(diffs) / best(replays);
      rows.push({ what: 'loyalty replay --json (beside diff)', best: fmtSec(best(replays)), median: fmtSec(median(replays)), note: 'the same command as above, run alternately with the diff' });
      rows.push({
        what: 'loyalty diff --json',
        best: fmtSec(best(diffs)),
        median: fmtSec(median(diffs)),
        note: `node bin/loyalty.mjs diff ${relative(ROOT, PROGRAM)} DRAFT FILE --json (DRAFT: ${DRAFT_CHANGES.map(([, to]) => to).join(', ')}); ${ratio.toFixed(2)} × replay, best to best (goal ≤ ${GOAL.diffRatio}) ${ratio <= GOAL.diffRatio ? 'MET' : 'NOT MET'}; run by run ${pairs.map((p) => p.toFixed(2)).join(', ')}`,
      });
    }
  }

  let check = '';
  if (o.check) {
    if (!engineThere || !cliThere) check = 'check: engine not available yet';
    else {
      progress('checking the engine result against the hand-written one ...');
      const a = join(DATA, 'check-handwritten.json');
      const b = join(DATA, 'check-engine.json');
      toFile([...nodeTsx, join(BENCH, 'handwritten.ts'), ...(v2 ? ['--v2'] : []), file], a);
      toFile([process.execPath, CLI, 'replay', PROGRAM, file, '--json'], b);
      const r = spawnSync(process.execPath, ['--max-old-space-size=8192', '--expose-gc', '--import', 'tsx', join(BENCH, 'compare.ts'), a, b], { cwd: ROOT, encoding: 'utf8' });
      check = `check (engine vs hand-written): ${r.status === 0 ? 'EQUAL — ' : 'DIFFERENT\n'}${r.stdout.trim()}`;
      if (r.status === 0) {
        unlinkSync(a);
        unlinkSync(b);
      }
    }
  }

  const out: string[] = [];
  out.push('');
  out.push(`stream: ${relative(ROOT, file)} — ${(bytes / 1e6).toFixed(1)} MB, ${fmtInt(lineCountEstimate(file, o))} events; Node ${process.version}, ${availableParallelism()} CPUs`);
  out.push(`runs per measurement: ${o.repeat} (best and median)`);
  out.push('');
  out.push(table(rows));
  out.push('');
  out.push(`goals: engine evaluation ≥ ${GOAL.evalRatio} × hand-written events/s; engine replay --json ≤ ${GOAL.e2eRatio} × hand-written end-to-end time; loyalty diff ≤ ${GOAL.diffRatio} × loyalty replay --json.`);
  out.push(`(ratios are given against this run's hand-written figures and against the issue's reference figures for this machine.)`);
  if (check) out.push(check);
  process.stdout.write(out.join('\n') + '\n');
}

function toFile(args: string[], path: string): void {
  const fd = openSync(path, 'w');
  const r = spawnSync(args[0]!, args.slice(1), { cwd: ROOT, stdio: ['ignore', fd, 'inherit'] });
  closeSync(fd);
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed (exit ${r.status})`);
}

let lineCache: { file: string; n: number } | null = null;
/** Events in the stream: the generator's count, or the file's lines. */
function lineCountEstimate(file: string, o: { file?: string; events: number }): number {
  if (!o.file) return o.events;
  if (lineCache?.file === file) return lineCache.n;
  const buf = readFileSync(file);
  let n = 0;
  for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) n++;
  if (buf.length > 0 && buf[buf.length - 1] !== 10) n++;
  lineCache = { file, n };
  return n;
}


await main();
