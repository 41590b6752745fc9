// Shared test helpers: the example and conformance cases, and replaying them.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { compile, type Program } from '../dsl/index.ts';
import { Replay, type ReplayOptions, type ReplayResult } from '../src/engine/index.ts';

export const ROOT = resolve(import.meta.dirname, '..');

export interface Case {
  name: string;
  program: string;
  events: string;
  expected: string;
}

/** `examples/NAME.loyalty` with `NAME.events.jsonl` and `NAME.expected.json`. */
export function exampleCases(): Case[] {
  const dir = join(ROOT, 'examples');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.loyalty'))
    .map((f) => f.slice(0, -'.loyalty'.length))
    .map((name) => ({ name, program: join(dir, `${name}.loyalty`), events: join(dir, `${name}.events.jsonl`), expected: join(dir, `${name}.expected.json`) }));
}

/** The conformance directory: $LOYALTY_CONFORMANCE_DIR, else ../shared/conformance when it exists. */
export function conformanceDir(): string | undefined {
  const env = process.env.LOYALTY_CONFORMANCE_DIR;
  if (env) return resolve(env);
  const def = resolve(ROOT, '../shared/conformance');
  return existsSync(def) ? def : undefined;
}

export function conformanceCases(): Case[] {
  const dir = conformanceDir();
  return dir ? casesIn(dir) : [];
}

function casesIn(dir: string, only?: ReadonlySet<string>): Case[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, 'program.loyalty')) && (!only || only.has(d.name)))
    .map((d) => ({ name: d.name, program: join(dir, d.name, 'program.loyalty'), events: join(dir, d.name, 'events.jsonl'), expected: join(dir, d.name, 'expected.json') }));
}

/**
 * The cases of ../shared/conformance-next ($LOYALTY_CONFORMANCE_NEXT_DIR)
 * whose features are built. 20–23 (tier discounts, rewards, pending,
 * challenges) join this list when language v2 lands; then the whole folder.
 */
export const NEXT_CASES_BUILT: ReadonlySet<string> = new Set(['20-tier-discounts', '21-rewards', '22-pending', '23-challenges', '24-adjustments']);

export function conformanceNextDir(): string | undefined {
  const env = process.env.LOYALTY_CONFORMANCE_NEXT_DIR;
  if (env) return resolve(env);
  const def = resolve(ROOT, '../shared/conformance-next');
  return existsSync(def) ? def : undefined;
}

export function conformanceNextCases(): Case[] {
  const dir = conformanceNextDir();
  return dir ? casesIn(dir, NEXT_CASES_BUILT) : [];
}

/** The program compiled from `src` (named `name` in its diagnostics); throws with the diagnostics. */
function compiled(src: string, name: string): Program {
  const r = compile(src, name);
  if (!r.program) throw new Error(`${name} does not compile: ${JSON.stringify(r.diagnostics)}`);
  return r.program;
}

/** A program from source text written in a test. */
export function program(src: string): Program {
  return compiled(src, 'test.loyalty');
}

export function compileFile(path: string): Program {
  return compiled(readFileSync(path, 'utf8'), path);
}

/** Replays the lines, numbered from 1. */
function replayLines(program: Program, lines: readonly string[], opts: ReplayOptions): ReplayResult {
  const r = new Replay(program, opts);
  lines.forEach((line, i) => r.pushLine(line, i + 1));
  return r.result();
}

/** Replays events written in a test as objects, one line each. */
export function replayEvents(program: Program, events: readonly object[], opts: ReplayOptions = {}): ReplayResult {
  return replayLines(program, events.map((e) => JSON.stringify(e)), opts);
}

export function replayFile(program: Program, eventsPath: string, opts: ReplayOptions = {}): ReplayResult {
  return replayLines(program, readFileSync(eventsPath, 'utf8').split(/\r?\n/), opts);
}
